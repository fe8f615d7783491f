#!/usr/bin/env bash
# Back up or restore the registry database named by DATABASE_URL (SQLite or PostgreSQL).
#   scripts/backup.sh backup  backups/gridwalk-$(date +%F).dump
#   scripts/backup.sh restore backups/gridwalk-2026-11-26.dump   # stop the app servers first
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m webapp.oversight.backup "$@"

#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing (CI runs as root on a
# fresh machine). Nothing is downloaded at run time by the app itself.
#   postgresql      - every database test also runs on a throwaway PostgreSQL cluster
#   chromium        - browser tests (Playwright drives Debian's build; `playwright install`
#                     would download its own browser, which a closed network refuses)
#   fonts-noto-cjk  - so Chinese text renders (and is measured) in the browser tests
#   npm             - only where the machine has no Node: `npm ci` installs package-lock.json
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q "ok installed" || need+=(fonts-noto-cjk)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages: ${need[*]} (install them as root: apt-get install -y ${need[*]})" >&2
    exit 1
  fi
  echo "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian starts a cluster on install; the tests start their own, so stop it.
  if [[ " ${need[*]} " == *" postgresql "* ]]; then
    service postgresql stop >/dev/null 2>&1 || true
  fi
fi

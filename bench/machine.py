"""What the figures were measured on (nproc, memory, CPU, versions)."""
from __future__ import annotations

import os
import platform
import sqlite3
import subprocess


def _first(path: str, key: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def _version(args: list[str]) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=20).stdout.strip() or "?"
    except (OSError, subprocess.TimeoutExpired):
        return "not found"


def describe(pg_bin: str | None, chromium: str = "/usr/bin/chromium") -> dict[str, str]:
    mem_kb = _first("/proc/meminfo", "MemTotal").split()[0]
    return {
        "nproc": str(os.cpu_count()),
        "memory": f"{int(mem_kb) / 1024 / 1024:.1f} GiB" if mem_kb.isdigit() else "?",
        "cpu": _first("/proc/cpuinfo", "model name"),
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _version([f"{pg_bin}/postgres", "--version"]) if pg_bin else "not found",
        "chromium": _version([chromium, "--version"]),
    }

"""Plates point at the server `make run` starts (issue 16 §8): with PUBLIC_BASE_URL unset, the
app takes it from HOST and PORT, which the Makefile hands to it; and which base URLs name this
machine only (the plate pages warn of those)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from webapp.registry.plates import local_only

ROOT = Path(__file__).resolve().parent.parent
SHOW = "show-base:\n\t@$(PY) -c 'import config; print(config.Config.PUBLIC_BASE_URL)'\n"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_BASE_URL", "HOST", "PORT", "MAKEFLAGS", "MFLAGS")}
    return {**env, **extra}


@pytest.mark.parametrize(("args", "env", "expected"), [
    ([], {}, "http://127.0.0.1:5000"),
    (["PORT=58201"], {}, "http://127.0.0.1:58201"),
    ([], {"PORT": "58201", "HOST": "192.168.1.20"}, "http://192.168.1.20:58201"),
    (["PORT=58201"], {"PUBLIC_BASE_URL": "https://gridwalk.example.lan"}, "https://gridwalk.example.lan"),
])
def test_make_run_hands_host_and_port_to_the_plates(args: list[str], env: dict[str, str], expected: str) -> None:
    """The Makefile's own variables, read by the app as `make run` starts it (a stub target
    reads config.py under the Makefile: nothing is installed or served)."""
    done = subprocess.run(["make", "-s", "-f", "Makefile", "-f", "-", "show-base", f"PY={sys.executable}", *args],
                          input=SHOW, text=True, capture_output=True, cwd=ROOT, env=_env(**env), timeout=60, check=True)
    assert done.stdout.strip() == expected


@pytest.mark.parametrize(("url", "local"), [
    ("http://127.0.0.1:5000", True), ("http://127.8.0.1", True), ("http://localhost:58201", True),
    ("http://app.localhost", True), ("http://0.0.0.0:8000", True), ("http://[::1]:5000", True), ("http://[::]:5000", True),
    ("http://192.168.1.20:58201", False), ("https://gridwalk.example.lan", False), ("http://10.0.0.5", False),
])
def test_which_base_urls_name_this_machine_only(url: str, local: bool) -> None:
    assert local_only(url) is local

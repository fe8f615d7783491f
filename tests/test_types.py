"""Every layer below HTTP type-checks with mypy (mypy.ini): base, models, validation, registry,
sync, geo and oversight, so their annotations cannot drift from the code between reviews. The
HTTP layer is followed silently. mypy is pinned in requirements-dev.txt."""
from __future__ import annotations

import pytest
import subprocess
import sys
from pathlib import Path

pytestmark = pytest.mark.slow  # mypy over the typed layers: `make test`, not `make check`

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_finds_nothing() -> None:
    mypy = Path(sys.executable).parent / "mypy"
    done = subprocess.run([mypy], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr

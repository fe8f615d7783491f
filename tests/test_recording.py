"""Change recording is installed by one explicit call, and a plain script that makes it
numbers its changes like the app does (webapp/registry/recording.py)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from webapp.registry import recording

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import sys
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from webapp.models import Base, Committee
{install}
engine = create_engine("sqlite:///" + sys.argv[1])
Base.metadata.create_all(engine)
with Session(engine) as s:
    s.add(Committee(code="C001", name="测试居委"))
    s.commit()
with Session(engine) as s:
    print(s.scalars(select(Committee)).one().seq)
"""


@pytest.mark.parametrize("install, stamped", [
    ("from webapp.registry import recording\nrecording.install()", True),
    ("", False),
])
def test_a_plain_script_numbers_its_changes_once_installed(tmp_path: Path, install: str, stamped: bool) -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(install=install), str(tmp_path / "db.sqlite")],
                         capture_output=True, text=True, cwd=ROOT, check=True)
    seq = out.stdout.strip()
    if stamped:
        assert int(seq) >= 1
    else:  # why the call is needed: without it the row is invisible to every pull
        assert seq == "None"


def test_the_app_factory_and_the_tests_install_it() -> None:
    assert recording.installed()  # conftest, as the app factory does
    recording.install()  # and again is harmless
    assert recording.installed()


def test_importing_the_numbering_installs_nothing() -> None:
    code = ("import webapp.registry.sequence, webapp.registry.changelog\n"
            "from webapp.registry import recording\nprint(recording.installed())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"

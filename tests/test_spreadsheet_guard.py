"""Every export writes text through one formula guard (webapp/registry/spreadsheet.py):
OWASP's list of leading characters, and an import reads the guarded text back unchanged."""
from __future__ import annotations

import csv
import io

import pytest

from webapp.registry import spreadsheet
from webapp.registry.extract.cells import _text
from webapp.registry.extract.export import _out_value
from webapp.registry.extract.spec import HOUSES
from webapp.reports.export import to_csv

# A leading tab or carriage return was written as is: some programs drop it and run the rest.
FORMULAS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1", '=HYPERLINK("http://evil.example")']


@pytest.mark.parametrize("text", FORMULAS)
def test_both_writers_keep_a_formula_as_text(text: str) -> None:
    rows = list(csv.reader(io.StringIO(to_csv("note", [(["名称"], [[text]])]).decode("utf-8-sig"))))
    assert rows[-1] == ["'" + text]
    assert _out_value(HOUSES.column("road"), text) == "'" + text


@pytest.mark.parametrize("text", [*FORMULAS, "'quoted by hand", "谷阳北路", "O'Brien"])
def test_an_import_reads_the_guard_back(text: str) -> None:
    assert spreadsheet.read_back(spreadsheet.as_text(text)) == text
    if text == text.strip():
        assert _text(spreadsheet.as_text(text)) == text

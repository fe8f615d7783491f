"""Exports as CSV (UTF-8 with BOM, so Excel reads the Chinese) and XLSX (openpyxl): the
reports', the grading's and the coverage map's.

The first line of every file says who exported what, when and with which filters, so a
printed or forwarded file still tells where it came from; the same words go to the audit log.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from webapp.registry import spreadsheet

Table = tuple[list[str], list[list[Any]]]
MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _cell(value: Any) -> Any:
    return spreadsheet.as_text(value)


def to_csv(note: str, tables: Sequence[Table]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([note])
    for i, (head, rows) in enumerate(tables):
        if i:
            writer.writerow([])
        writer.writerow(head)
        writer.writerows([[_cell(v) for v in row] for row in rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# Excel refuses these in a sheet's name (openpyxl raises): "待审核/已退回" was a 500.
_NOT_IN_SHEET_NAMES = str.maketrans({c: "-" for c in "[]:*?/\\"})


def sheet_title(title: str) -> str:
    """A sheet name Excel takes: no []:*?/\\, not quoted, at most 31 characters."""
    return title.translate(_NOT_IN_SHEET_NAMES).strip("'")[:31] or "Sheet"


def to_xlsx(note: str, sheets: Sequence[tuple[str, Table]]) -> bytes:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    book.properties.title = note[:255]
    for title, (head, rows) in sheets:
        sheet = book.create_sheet(sheet_title(title))
        sheet.append([note])
        sheet.append(head)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_cell(v) for v in row])
        sheet.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render(fmt: str, note: str, sheets: Sequence[tuple[str, Table]]) -> bytes:
    if fmt == "csv":
        return to_csv(note, [t for _title, t in sheets])
    return to_xlsx(note, sheets)

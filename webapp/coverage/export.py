"""Coverage as CSV (UTF-8 with BOM, so Excel opens Chinese text) and as XLSX.

Both carry a first line saying who exported what and when: a printed or forwarded file
still tells where it came from.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from webapp.coverage.columns import NUMBER_KEYS, NUMBERS, percent, ratio_of


def cell_table(cells: Iterable[Any]) -> tuple[list[str], list[list[Any]]]:
    head = [str(h) for h in (_("Committee"), _("Cell code"), _("Cell"))]
    head += [str(label) for _key, label in NUMBERS] + [str(_("Coverage"))]
    rows = [[c.committee_name, c.cell_code, c.cell_name, *(int(getattr(c, k) or 0) for k in NUMBER_KEYS),
             percent(ratio_of(c))] for c in cells]
    return head, rows


def committee_table(committees: Iterable[Any], total: Any) -> tuple[list[str], list[list[Any]]]:
    head = [str(_("Committee"))] + [str(label) for _key, label in NUMBERS] + [str(_("Coverage"))]
    rows = [[committee_name(c), *(int(getattr(c, k) or 0) for k in NUMBER_KEYS), percent(ratio_of(c))]
            for c in [*committees, total]]
    return head, rows


def committee_name(row: Any) -> str:
    return str(getattr(row, "committee_name", None) or getattr(row, "name", ""))


def to_csv(note: str, sections: Sequence[tuple[list[str], list[list[Any]]]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([note])
    for i, (head, rows) in enumerate(sections):
        if i:
            writer.writerow([])
        writer.writerow(head)
        writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(note: str, sheets: Sequence[tuple[str, list[str], list[list[Any]]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    book.properties.title = note[:255]
    for title, head, rows in sheets:
        sheet = book.create_sheet(title[:31])
        sheet.append([note])
        sheet.append(head)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(row)
        sheet.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

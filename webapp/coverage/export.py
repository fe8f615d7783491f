"""Coverage as export tables: per cell and per committee, with the map's headings.

The files themselves (CSV with BOM, XLSX, the first line saying who exported what and
when) are written by `webapp.reports.export`, like every other export.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _

from webapp.coverage.columns import NUMBER_KEYS, NUMBERS, percent, ratio_of
from webapp.reports.export import Table


def cell_table(cells: Iterable[Any]) -> Table:
    head = [str(h) for h in (_("Committee"), _("Cell code"), _("Cell"))]
    head += [str(label) for _key, label in NUMBERS] + [str(_("Coverage"))]
    rows = [[c.committee_name, c.cell_code, c.cell_name, *(int(getattr(c, k) or 0) for k in NUMBER_KEYS),
             percent(ratio_of(c))] for c in cells]
    return head, rows


def committee_table(committees: Iterable[Any], total: Any) -> Table:
    head = [str(_("Committee"))] + [str(label) for _key, label in NUMBERS] + [str(_("Coverage"))]
    rows = [[committee_name(c), *(int(getattr(c, k) or 0) for k in NUMBER_KEYS), percent(ratio_of(c))]
            for c in [*committees, total]]
    return head, rows


def committee_name(row: Any) -> str:
    return str(getattr(row, "committee_name", None) or getattr(row, "name", ""))

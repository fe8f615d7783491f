"""The police registry's monthly extract: repeatable import, and export in the same shapes.

Four shapes (houses, units, persons, residencies), each a CSV file or an XLSX sheet. Importing is
all-or-nothing: every row is parsed and checked first, and if any row is bad nothing is
written. A good extract is applied inside a savepoint, matching what exists (houses by their
external code, units by theirs, persons by their normalised ID number), so that importing the same extract
twice changes nothing and every real change is an ordinary new version.

An export writes the same columns, preceded by a "#" note line that the importer skips, so
that an export re-imports unchanged.

Modules, in the order an import uses them: `spec` (the columns), `read` (files to rows of
cells), `cells` and `rows` (cells to values), `existing` → `check` → `importer` (what exists,
checking every row, applying) with `residencies`, `report` and `progress`; `export` apart.
"""
from __future__ import annotations

from webapp.registry.extract.export import HouseFilter, export_extract
from webapp.registry.extract.importer import import_extract
from webapp.registry.extract.progress import PROGRESS_EVERY, ProgressFn
from webapp.registry.extract.read import ExtractSource
from webapp.registry.extract.report import ImportReport, Item, RowIssue, ShapeReport
from webapp.registry.extract.spec import (
    COMMENT,
    HOUSES,
    NOTE_SHEET,
    ORDER,
    PERSONS,
    RESIDENCIES,
    SHAPES,
    UNITS,
    Column,
    Shape,
    ShapeName,
)

__all__ = [
    "COMMENT", "HOUSES", "NOTE_SHEET", "ORDER", "PERSONS", "PROGRESS_EVERY", "RESIDENCIES", "SHAPES", "UNITS",
    "Column", "ExtractSource", "HouseFilter", "ImportReport", "Item", "ProgressFn", "RowIssue", "Shape",
    "ShapeName", "ShapeReport", "export_extract", "import_extract",
]

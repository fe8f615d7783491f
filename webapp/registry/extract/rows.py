"""A shape's rows once parsed, and the header that maps its columns."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from webapp.registry.extract.cells import _text
from webapp.registry.extract.report import _ferr
from webapp.registry.extract.spec import Shape
from webapp.validation import FieldError, IdResult


@dataclass
class _Row:
    line: int
    values: dict[str, Any]


@dataclass
class _Parsed:
    """The good rows of one shape, keyed by match key, and the columns the file had."""

    present: set[str]
    rows: dict[Any, _Row] = field(default_factory=dict)
    bad_keys: set[Any] = field(default_factory=set)  # keys of bad rows: no follow-on errors
    id_results: dict[str, IdResult] = field(default_factory=dict)  # persons
    open_lines: dict[str, int] = field(default_factory=dict)  # residencies: ID number → line
    # The file or its header was unusable: rows elsewhere that refer to it are not blamed.
    broken: bool = False

    def knows(self, key: Any) -> bool:
        return self.broken or key in self.rows or key in self.bad_keys


def _header(shape: Shape, line: int, cells: list[Any]
            ) -> tuple[dict[int, str], list[FieldError], list[FieldError]]:
    """Column index → key, from Chinese headers or English keys; plus errors and warnings."""
    names = {c.zh: c.key for c in shape.columns} | {c.key: c.key for c in shape.columns}
    index: dict[int, str] = {}
    errors: list[FieldError] = []
    warnings: list[FieldError] = []
    for i, cell in enumerate(cells):
        text = _text(cell, nfkc=True)
        if text is None:
            continue
        key = names.get(text) or names.get(text.lower())
        if key is None:
            warnings.append(_ferr(text, "extract.unknown_column", f"忽略未知列“{text}”",
                                  f"Unknown column '{text}' ignored"))
        elif key in index.values():
            errors.append(_ferr(key, "extract.duplicate_column", f"列“{text}”重复",
                                f"Column '{text}' appears twice"))
        else:
            index[i] = key
    for col in shape.columns:
        if col.required and col.key not in index.values():
            errors.append(_ferr(col.key, "extract.missing_column", f"缺少必填列“{col.zh}”",
                                f"Required column '{col.zh}' ({col.key}) is missing"))
    return index, errors, warnings

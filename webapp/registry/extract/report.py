"""The import report: counts, new/changed/gone records, and the problems found."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from webapp.registry.extract.spec import ORDER, SHAPES, Shape, ShapeName
from webapp.validation import FieldError, mask_id


@dataclass(frozen=True)
class RowIssue:
    """Problems with one row: line 1 is the file's first line, as a spreadsheet shows it
    (the header, unless a "#" note precedes it); line 0 is the file as a whole."""

    sheet: str
    line: int
    errors: tuple[FieldError, ...]

    def message(self, lang: str = "zh") -> str:
        shape = SHAPES.get(self.sheet)
        if lang.startswith("zh"):
            name = shape.zh if shape else self.sheet
            where = f"{name} 第{self.line}行" if self.line else name
            return f"{where}：" + "；".join(e.zh for e in self.errors)
        name = shape.en if shape else self.sheet
        where = f"{name} line {self.line}" if self.line else name
        return f"{where}: " + "; ".join(e.en for e in self.errors)

    def to_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "line": self.line, "errors": [e.as_dict() for e in self.errors]}


@dataclass
class Item:
    """One record in a report list; `diff` is {field: (old, new)} for changed records."""

    key: str
    label: str
    line: int | None = None
    diff: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    note: str | None = None  # "moved": ended because the person moved to another house
    record_id: uuid.UUID | None = None
    id_number: str | None = None  # kept apart so that to_dict can mask it

    def to_dict(self, mask: bool) -> dict[str, Any]:
        key = self.key
        if mask and self.id_number:
            key = key.replace(self.id_number, mask_id(self.id_number))
        diff = {f: [_jsonable(f, o, mask), _jsonable(f, n, mask)] for f, (o, n) in self.diff.items()}
        return {"key": key, "label": self.label, "line": self.line, "diff": diff, "note": self.note,
                "record_id": str(self.record_id) if self.record_id else None}


def _jsonable(name: str, value: Any, mask: bool) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if mask and name == "id_number" and value:
        return mask_id(value)
    return value


@dataclass
class ShapeReport:
    shape: ShapeName
    rows: int = 0
    new: list[Item] = field(default_factory=list)
    changed: list[Item] = field(default_factory=list)
    unchanged: int = 0
    gone: list[Item] = field(default_factory=list)  # "no longer present": listed, never deleted

    def counts(self) -> dict[str, int]:
        return {"rows": self.rows, "new": len(self.new), "changed": len(self.changed),
                "unchanged": self.unchanged, "gone": len(self.gone)}


@dataclass
class ImportReport:
    dry_run: bool = False
    shapes: dict[str, ShapeReport] = field(default_factory=dict)
    errors: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def written(self) -> bool:
        """True when the changes are in the session (to be committed by the caller)."""
        return self.ok and not self.dry_run

    def counts(self) -> dict[str, dict[str, int]]:
        return {k: r.counts() for k, r in self.shapes.items()}

    def to_dict(self, *, mask_ids: bool = False, limit: int | None = 500) -> dict[str, Any]:
        """JSON-ready; lists are cut to `limit` items (counts are always complete)."""
        def cut(items: list[Item]) -> list[dict[str, Any]]:
            return [i.to_dict(mask_ids) for i in items[:limit]]

        return {
            "ok": self.ok, "dry_run": self.dry_run, "counts": self.counts(),
            "errors": [e.to_dict() for e in self.errors[:limit]],
            "warnings": [w.to_dict() for w in self.warnings[:limit]],
            "shapes": {k: {**r.counts(), "new_items": cut(r.new), "changed_items": cut(r.changed),
                           "gone_items": cut(r.gone)} for k, r in self.shapes.items()},
        }

    def summary_lines(self, lang: str = "zh", max_issues: int = 50) -> list[str]:
        zh = lang.startswith("zh")
        lines = [_headline(self, zh)]
        for key in ORDER:
            if key in self.shapes:
                lines.append(_count_line(SHAPES[key], self.shapes[key].counts(), zh))
        for title, issues in ((("错误", "Errors"), self.errors), (("提示", "Warnings"), self.warnings)):
            if issues:
                lines.append(f"{title[0] if zh else title[1]} ({len(issues)}):")
                lines += ["  " + i.message(lang) for i in issues[:max_issues]]
                if len(issues) > max_issues:
                    more = len(issues) - max_issues
                    lines.append(f"  …另有{more}处" if zh else f"  … and {more} more")
        return lines


def _headline(report: ImportReport, zh: bool) -> str:
    if not report.ok:
        return "导入失败：有错误的行，未写入任何数据" if zh else "Import refused: bad rows, nothing written"
    if report.dry_run:
        return "预检完成（未写入）" if zh else "Dry run complete (nothing written)"
    return "导入完成" if zh else "Import complete"


def _count_line(shape: Shape, c: dict[str, int], zh: bool) -> str:
    if zh:
        return (f"{shape.zh}：共{c['rows']}行，新增{c['new']}，变更{c['changed']}，"
                f"未变{c['unchanged']}，本次未出现{c['gone']}")
    return (f"{shape.en}: {c['rows']} rows, {c['new']} new, {c['changed']} changed, "
            f"{c['unchanged']} unchanged, {c['gone']} no longer present")


def _ferr(key: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(key, code, zh, en)

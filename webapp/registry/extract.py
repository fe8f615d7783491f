"""The police registry's monthly extract: repeatable import, and export in the same shapes.

Three shapes (houses, persons, residencies), each a CSV file or an XLSX sheet. Importing is
all-or-nothing: every row is parsed and checked first, and if any row is bad nothing is
written. A good extract is applied inside a savepoint, matching what exists (houses by their
external code, persons by their normalised ID number), so that importing the same extract
twice changes nothing and every real change is an ordinary new version.

An export writes the same columns, preceded by a "#" note line that the importer skips, so
that an export re-imports unchanged.
"""
from __future__ import annotations

import codecs
import csv
import io
import math
import re
import shutil
import tempfile
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Literal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from webapp.models import House, HouseCode, Person, Residency
from webapp.models.enums import HouseUse, PersonCategory, Relation, Source
from webapp.registry.changes import apply_changes
from webapp.validation import (
    FieldError,
    IdResult,
    IdType,
    ValidationError,
    mask_id,
    parse_mobile,
    parse_person_id,
)

ShapeName = Literal["houses", "persons", "residencies"]
# A path, an open file, or an upload (werkzeug FileStorage: read via .stream, named by .filename).
ExtractSource = Path | str | IO[bytes] | IO[str] | Any
ProgressFn = Callable[[str, int, "int | None"], None]

PROGRESS_EVERY = 1000
COMMENT = "#"
NOTE_SHEET = "说明"
# Excel runs a cell starting with one of these as a formula; exports prefix them with "'".
_FORMULA_START = ("=", "+", "-", "@")
_XLSX_MAGIC = b"PK\x03\x04"


# --- Column layout ------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a shape: its English key (= model field where there is one) and header."""

    key: str
    zh: str
    kind: Literal["text", "int", "float", "date", "enum", "id", "phone"] = "text"
    required: bool = False
    max_len: int | None = None
    choices: Callable[[str], list[tuple[str, str]]] | None = None  # Enum.choices(lang)
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Shape:
    key: ShapeName
    zh: str
    en: str
    columns: tuple[Column, ...]
    sheet_aliases: tuple[str, ...] = ()

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def sheet_names(self) -> set[str]:
        return {self.key, self.zh, self.en.lower(), *self.sheet_aliases}


HOUSES = Shape("houses", "房屋", "Houses", (
    Column("external_code", "外部编码", required=True, max_len=40),
    Column("road", "路", required=True, max_len=64),
    Column("number", "门牌号", required=True, max_len=16),
    Column("building", "楼号", max_len=16),
    Column("unit", "单元", max_len=16),
    Column("floor", "楼层", "int", low=-10, high=200),
    Column("room", "室", max_len=16),
    # WGS-84 within China's extent: anything else is a projected or swapped coordinate.
    Column("lon", "经度", "float", low=73, high=136),
    Column("lat", "纬度", "float", low=3, high=54),
    Column("use", "用途", "enum", choices=HouseUse.choices),
    Column("floor_area", "建筑面积", "float", low=0, high=100_000),
    Column("living_area", "居住面积", "float", low=0, high=100_000),
), ("实有房屋",))

PERSONS = Shape("persons", "人口", "Persons", (
    Column("id_type", "证件类型", "enum", choices=IdType.choices),
    Column("id_number", "证件号码", "id", required=True, max_len=32),
    Column("name", "姓名", required=True, max_len=64),
    Column("phone", "手机", "phone", max_len=20),
    Column("category", "人员类别", "enum", choices=PersonCategory.choices),
    Column("hukou_address", "户籍地址", max_len=200),
    Column("permit_number", "居住证号", max_len=32),
    Column("permit_expiry", "居住证有效期", "date"),
), ("实有人口",))

RESIDENCIES = Shape("residencies", "居住", "Residencies", (
    Column("id_number", "证件号码", "id", required=True, max_len=32),
    Column("house_external_code", "房屋外部编码", required=True, max_len=40),
    Column("relation", "关系", "enum", choices=Relation.choices),
    Column("start_date", "入住日期", "date", required=True),
    Column("end_date", "迁出日期", "date"),
), ("居住信息", "人房关系"))

SHAPES: dict[str, Shape] = {s.key: s for s in (HOUSES, PERSONS, RESIDENCIES)}
ORDER: tuple[ShapeName, ...] = ("houses", "persons", "residencies")

# Columns the database cannot hold empty: a blank cell keeps what is there (or the default).
_NOT_NULL = {"use", "category", "id_type", "relation"}


# --- The report ---------------------------------------------------------------------------


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


# --- Progress ----------------------------------------------------------------------------


class _Progress:
    """Calls the caller's callback every PROGRESS_EVERY items and once at the end of a stage."""

    def __init__(self, fn: ProgressFn | None) -> None:
        self.fn = fn

    def tick(self, stage: str, done: int, total: int | None = None) -> None:
        if self.fn and done % PROGRESS_EVERY == 0:
            self.fn(stage, done, total)

    def end(self, stage: str, done: int) -> None:
        if self.fn:
            self.fn(stage, done, done)


# --- Reading files -----------------------------------------------------------------------


class _FileProblem(Exception):
    def __init__(self, line: int, error: FieldError) -> None:
        super().__init__(error.en)
        self.line, self.error = line, error


def _ferr(key: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(key, code, zh, en)


@contextmanager
def _binary(source: ExtractSource) -> Iterator[tuple[IO[bytes] | IO[str], str]]:
    """A seekable stream and a name (for the format) for a path, an IO or an upload."""
    if isinstance(source, (str, Path)):
        with open(source, "rb") as fh:
            yield fh, str(source)
        return
    name = getattr(source, "filename", None) or getattr(source, "name", None) or ""
    stream = getattr(source, "stream", source)
    if isinstance(stream, io.TextIOBase) or stream.seekable():
        yield stream, str(name)
        return
    # Uploads may not seek; encoding detection and openpyxl both need to.
    with tempfile.SpooledTemporaryFile(max_size=32 << 20) as spool:
        shutil.copyfileobj(stream, spool)
        spool.seek(0)
        yield spool, str(name)  # type: ignore[misc]


def _format(stream: IO[bytes] | IO[str], name: str, fmt: str | None) -> str:
    if fmt:
        return fmt
    suffix = Path(name).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    if suffix == ".xls":
        raise _FileProblem(0, _ferr("file", "file.xls", "不支持旧版Excel（.xls）文件，请另存为.xlsx或.csv",
                                    "Old Excel (.xls) files are not supported; save as .xlsx or .csv"))
    if isinstance(stream, io.TextIOBase):
        return "csv"
    head = stream.read(4)
    stream.seek(0)
    return "xlsx" if head == _XLSX_MAGIC else "csv"


def _detect_encoding(stream: IO[bytes]) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes as such, else GB18030."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := stream.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "gb18030"
    finally:
        stream.seek(0)


def _csv_rows(stream: IO[bytes] | IO[str]) -> Iterator[tuple[int, list[Any]]]:
    """(line, cells) for every record; comment lines before the header are skipped."""
    if isinstance(stream, io.TextIOBase):
        text: IO[str] = stream
    else:
        encoding = _detect_encoding(stream)  # type: ignore[arg-type]
        text = io.TextIOWrapper(stream, encoding=encoding, newline="")  # type: ignore[arg-type]
    try:
        lines = iter(text)
        line_no, first = _skip_comments(lines)
        if first is None:
            return
        dialect = "excel-tab" if "\t" in first and "," not in first else "excel"
        reader = csv.reader(_chain(first, lines), dialect)
        for line_no, cells in enumerate(reader, start=line_no):
            yield line_no, cells
    except csv.Error as exc:
        raise _FileProblem(0, _ferr("file", "file.csv", f"CSV格式错误：{exc}", f"Malformed CSV: {exc}")) from None
    finally:
        if text is not stream:
            text.detach()  # leave the caller's stream open


def _skip_comments(lines: Iterator[str]) -> tuple[int, str | None]:
    """Skip "#" note lines and blank lines before the header; return the header's line."""
    for n, raw in enumerate(lines, start=1):
        line = raw.lstrip("\ufeff")
        if line.strip() and not line.lstrip().startswith(COMMENT):
            return n, line
    return 0, None


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _xlsx_rows(stream: IO[bytes], shape: Shape) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken or foreign file
        raise _FileProblem(0, _ferr("file", "file.xlsx", f"无法读取Excel文件：{exc}",
                                    f"Cannot read the Excel file: {exc}")) from None
    try:
        ws = wb[_pick_sheet(wb.sheetnames, shape)]
        ws.reset_dimensions()  # some writers store a wrong size; read what is there
        started = False
        for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = list(row)
            if not started and _is_preamble(cells):
                continue
            started = True
            yield n, cells
    finally:
        wb.close()


def _is_preamble(cells: list[Any]) -> bool:
    first = next((c for c in cells if c not in (None, "")), None)
    return first is None or (isinstance(first, str) and first.lstrip().startswith(COMMENT))


def _pick_sheet(names: list[str], shape: Shape) -> str:
    wanted = shape.sheet_names()
    for name in names:
        if name.strip().lower() in wanted:
            return name
    data = [n for n in names if n != NOTE_SHEET]
    if len(data) == 1:
        return data[0]
    raise _FileProblem(0, _ferr(
        "file", "file.sheet", f"工作簿中没有名为“{shape.zh}”的工作表",
        f"The workbook has no sheet named '{shape.zh}' or '{shape.key}'"))


# --- Parsing cells -----------------------------------------------------------------------


# 2025-01-31, 2025/1/31, 2025.1.31, 2025年1月31日, optionally followed by a time of day.
_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def _text(raw: Any, nfkc: bool = False) -> str | None:
    """A cell as trimmed text; None when blank. Undoes the export's formula guard.

    NFKC (full-width digits and letters from Chinese IMEs) only where asked: applied to
    names it would also fold the compatibility ideographs some rare given names need.
    """
    if raw is None:
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # Excel stores a typed "88" as the number 88.0
    if isinstance(raw, datetime):
        raw = raw.date() if raw.time() == datetime.min.time() else raw
    value = (unicodedata.normalize("NFKC", str(raw)) if nfkc else str(raw)).strip()
    if value.startswith('="') and value.endswith('"'):
        value = value[2:-1].strip()  # Excel's "keep as text" CSV idiom
    if len(value) > 1 and value[0] == "'" and value[1] in _FORMULA_START:
        value = value[1:]
    return value or None


class _Cells:
    """Parses one row's cells by column, collecting errors instead of stopping at the first."""

    def __init__(self, shape: Shape, present: set[str], raw: dict[str, Any]) -> None:
        self.raw = raw
        self.errors: list[FieldError] = []
        self.values: dict[str, Any] = {c.key: self.value(c) for c in shape.columns if c.key in present}

    def fail(self, col: Column, code: str, zh: str, en: str) -> None:
        self.errors.append(FieldError(col.key, code, f"“{col.zh}”{zh}", f"{col.key}: {en}"))

    def value(self, col: Column) -> Any:
        raw = self.raw.get(col.key)
        text = _text(raw, nfkc=col.kind != "text" or col.key.endswith("code"))
        if text is None:
            if col.required:
                self.fail(col, "extract.required", "不能为空", "is required")
            return None
        if col.max_len and len(text) > col.max_len:
            self.fail(col, "extract.too_long", f"最多{col.max_len}个字符", f"at most {col.max_len} characters")
            return None
        if col.kind in ("text", "id"):  # ID numbers are normalised by the shape, which knows their type
            return text
        parse: Callable[[Column, Any, str], Any] = getattr(self, f"_{col.kind}")
        return parse(col, raw, text)

    def _phone(self, col: Column, raw: Any, text: str) -> str | None:
        try:
            return parse_mobile(text, field=col.key)
        except ValidationError as exc:
            if _LANDLINE.fullmatch(text):  # police records carry landlines too
                return text.replace("-", "")
            self.errors.extend(exc.errors)
            return None

    def _int(self, col: Column, raw: Any, text: str) -> int | None:
        try:
            number = float(text)  # "3.0" is 3: Excel writes whole numbers that way
        except ValueError:
            number = math.nan
        if not number.is_integer():
            self.fail(col, "extract.int", f"应为整数：{text}", f"must be a whole number: {text}")
            return None
        return int(number) if self._in_range(col, number, text) else None

    def _float(self, col: Column, raw: Any, text: str) -> float | None:
        try:
            number = float(raw) if isinstance(raw, (int, float)) else float(text)
        except ValueError:
            number = float("nan")
        if not math.isfinite(number):
            self.fail(col, "extract.number", f"应为数字：{text}", f"must be a number: {text}")
            return None
        return number if self._in_range(col, number, text) else None

    def _in_range(self, col: Column, number: float, text: str) -> bool:
        low = -math.inf if col.low is None else col.low
        high = math.inf if col.high is None else col.high
        if not low <= number <= high:
            self.fail(col, "extract.range", f"超出范围（{low:g}～{high:g}）：{text}",
                      f"out of range ({low:g} to {high:g}): {text}")
            return False
        return True

    def _date(self, col: Column, raw: Any, text: str) -> date | None:
        found = _to_date(raw, text)
        if found is None:
            self.fail(col, "extract.date", f"不是有效日期（应为2025-01-31）：{text}",
                      f"not a valid date (expected 2025-01-31): {text}")
        return found

    def _enum(self, col: Column, raw: Any, text: str) -> str | None:
        assert col.choices is not None
        code = _enum_lookup(col.choices).get(text.lower())
        if code is None:
            zh = "、".join(label for _, label in col.choices("zh"))
            en = ", ".join(value for value, _ in col.choices("en"))
            self.fail(col, "extract.choice", f"不是可选值（{zh}）：{text}", f"unknown value (allowed: {en}): {text}")
        return code


def _to_date(raw: Any, text: str) -> date | None:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, (int, float)) and not (19000101 <= raw <= 21001231):
        return _excel_serial(raw)
    digits = text.replace(" ", "")
    m = _DATE.match(text) or (re.fullmatch(r"(\d{4})(\d{2})(\d{2})", digits) if len(digits) == 8 else None)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _excel_serial(raw: float) -> date | None:
    """A date typed into an unformatted Excel cell arrives as its serial number."""
    if not 1 <= raw < 2_958_466:
        return None
    return (datetime(1899, 12, 30) + timedelta(days=int(raw))).date()


_ENUM_CACHE: dict[Any, dict[str, str]] = {}
_LABEL_CACHE: dict[Any, dict[str, str]] = {}


def _zh_labels(choices: Callable[[str], list[tuple[str, str]]]) -> dict[str, str]:
    if choices not in _LABEL_CACHE:
        _LABEL_CACHE[choices] = dict(choices("zh"))
    return _LABEL_CACHE[choices]


def _enum_lookup(choices: Callable[[str], list[tuple[str, str]]]) -> dict[str, str]:
    """Code, Chinese label and English label (all lower-cased) → code."""
    if choices not in _ENUM_CACHE:
        table: dict[str, str] = {}
        for lang in ("en", "zh"):
            for code, label in choices(lang):
                table[code.lower()] = code
                table[label.lower()] = code
        _ENUM_CACHE[choices] = table
    return _ENUM_CACHE[choices]


def _normal_code(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


def _id_key(text: str) -> tuple[str, list[FieldError]]:
    """The lookup key of an ID number given without its type (residency rows).

    Resident-shaped numbers go through the resident parser, so that a legacy 15-digit
    number finds the person stored under the 18-digit form; the errors are returned for
    the caller to show only if no person is found.
    """
    compact = _normal_code(unicodedata.normalize("NFKC", text)).replace("-", "")
    resident_shaped = re.fullmatch(r"\d{15}|\d{17}[\dX]", compact) is not None
    if resident_shaped and compact[0] != "9" and compact[:2] not in ("81", "82", "83"):
        try:
            return parse_person_id(compact).number, []
        except ValidationError as exc:
            return compact, exc.errors
    return compact, []


def _stored_id_key(number: str) -> str:
    """The key of an ID number already in the database (an old 15-digit one finds its 18)."""
    return _id_key(number)[0] if len(number) == 15 and number.isdigit() else number.upper()


# --- Parsing a shape ---------------------------------------------------------------------


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


def _read_table(shape: Shape, source: ExtractSource, fmt: str | None) -> Iterator[tuple[int, list[Any]]]:
    with _binary(source) as (stream, name):
        kind = _format(stream, name, fmt)
        if kind != "xlsx":
            yield from _csv_rows(stream)
        elif isinstance(stream, io.TextIOBase):
            raise _FileProblem(0, _ferr("file", "file.xlsx", "Excel文件须以二进制方式打开",
                                        "An Excel file must be opened in binary mode"))
        else:
            yield from _xlsx_rows(stream, shape)  # type: ignore[arg-type]


# --- Import ------------------------------------------------------------------------------


def import_extract(
    session: Session,
    files: Mapping[str, ExtractSource],
    *,
    by_user_id: int | None,
    fmt: str | None = None,
    dry_run: bool = False,
    progress: ProgressFn | None = None,
) -> ImportReport:
    """Import an extract: any subset of "houses", "persons", "residencies" → file.

    Nothing is written unless every row is good. A good import is flushed into the
    session's transaction (the caller commits, together with its audit record); a dry run
    does the same work in a savepoint and rolls it back, so its report is exact.
    """
    unknown = set(files) - set(SHAPES)
    if unknown:
        raise ValueError(f"unknown extract shapes: {sorted(unknown)}")
    report = ImportReport(dry_run=dry_run)
    work = _Importer(session, by_user_id, report, _Progress(progress))
    with session.no_autoflush:
        work.load(files)
        for key in ORDER:
            if key in files:
                work.parse(SHAPES[key], files[key], fmt)
    if not report.ok:
        return report
    savepoint = session.begin_nested()
    try:
        with session.no_autoflush:
            work.apply()
        session.flush()
    except BaseException:
        savepoint.rollback()
        raise
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
    return report


class _Importer:
    """One import: what exists, what the files say, and the report being built."""

    def __init__(self, session: Session, by_user_id: int | None, report: ImportReport,
                 progress: _Progress) -> None:
        self.session, self.by, self.report, self.progress = session, by_user_id, report, progress
        self.parsed: dict[str, _Parsed] = {}
        self.houses: dict[str, House] = {}  # live external code → live house
        self.dead_codes: dict[str, FieldError] = {}  # codes that cannot name an extract house
        self.persons: dict[str, Person] = {}  # normalised ID number → live person
        self.residencies: dict[uuid.UUID, list[Residency]] = defaultdict(list)  # by person id
        self.imported_person_ids: set[uuid.UUID] = set()

    # -- what exists: one query per table, never one per row --

    def load(self, shapes: Iterable[str]) -> None:
        wanted = set(shapes)
        self._load_houses()
        if wanted & {"persons", "residencies"}:
            stmt = select(Person).where(Person.deleted_at.is_(None), Person.id_number.is_not(None))
            self.persons = {_stored_id_key(p.id_number or ""): p for p in self.session.scalars(stmt)}
        if "residencies" in wanted:
            for r in self.session.scalars(select(Residency).where(Residency.deleted_at.is_(None))):
                self.residencies[r.person_id].append(r)
        if "persons" in wanted:
            # Persons carry no source: "from an earlier import" means "has an imported residency".
            self.imported_person_ids = set(self.session.scalars(
                select(Residency.person_id).where(Residency.source == Source.IMPORT.value,
                                                  Residency.deleted_at.is_(None)).distinct()))

    def _load_houses(self) -> None:
        rows = self.session.execute(select(HouseCode.code, HouseCode.kind, HouseCode.deleted_at, House)
                                    .join(House, House.id == HouseCode.house_id))
        for code, kind, code_deleted, house in rows:
            if kind != "external":
                self.dead_codes[code] = _ferr(
                    "external_code", "extract.code_taken", f"编码{code}已被本系统的门牌码或临时码占用",
                    f"Code {code} is already one of our plate or temporary codes")
            elif code_deleted is None and house.deleted_at is None:
                self.houses[code] = house
            else:
                self.dead_codes[code] = _ferr(
                    "external_code", "extract.house_deleted", f"外部编码{code}对应的房屋已删除，请先核实",
                    f"External code {code} belongs to a deleted house; review it first")

    # -- reading and checking every row before anything is written --

    def parse(self, shape: Shape, source: ExtractSource, fmt: str | None) -> None:
        stage = f"parse:{shape.key}"
        self.report.shapes[shape.key] = counts = ShapeReport(shape.key)
        rows = _read_table(shape, source, fmt)
        try:
            parsed = self._parse_rows(shape, rows, counts, stage)
        except _FileProblem as exc:
            self.report.errors.append(RowIssue(shape.key, exc.line, (exc.error,)))
            parsed = _Parsed(present=set(), broken=True)
        finally:
            rows.close()  # type: ignore[attr-defined]
        if parsed is None:
            self.report.errors.append(RowIssue(shape.key, 1, (_ferr(
                "file", "extract.empty", "文件为空或没有表头", "The file is empty or has no header row"),)))
            parsed = _Parsed(present=set(), broken=True)
        self.parsed[shape.key] = parsed
        self.progress.end(stage, counts.rows)

    def _parse_rows(self, shape: Shape, rows: Iterator[tuple[int, list[Any]]], counts: ShapeReport,
                    stage: str) -> _Parsed | None:
        parse_row: Callable[[_Parsed, int, dict[str, Any]], None] = getattr(self, f"_parse_{shape.key}")
        parsed: _Parsed | None = None
        index: dict[int, str] = {}
        for line, cells in rows:
            if parsed is None:
                index, errors, warnings = _header(shape, line, cells)
                parsed = _Parsed(present=set(index.values()))
                if warnings:
                    self.report.warnings.append(RowIssue(shape.key, line, tuple(warnings)))
                if errors:  # without its columns every row would repeat the same error
                    self.report.errors.append(RowIssue(shape.key, line, tuple(errors)))
                    parsed.broken = True
                    return parsed
                continue
            if all(_text(c) is None for c in cells):
                continue
            counts.rows += 1
            parse_row(parsed, line, {key: cells[i] if i < len(cells) else None for i, key in index.items()})
            self.progress.tick(stage, counts.rows)
        return parsed

    def _duplicate(self, col: Column, first_line: int) -> FieldError:
        return _ferr(col.key, "extract.duplicate", f"“{col.zh}”与第{first_line}行重复",
                     f"{col.key}: same as line {first_line}")

    def _parse_houses(self, parsed: _Parsed, line: int, raw: dict[str, Any]) -> None:
        cells = _Cells(HOUSES, parsed.present, raw)
        values = cells.values
        code = values.get("external_code")
        if code:
            code = values["external_code"] = _normal_code(code)
            if code in parsed.rows:
                cells.errors.append(self._duplicate(HOUSES.column("external_code"), parsed.rows[code].line))
            elif code in self.dead_codes:
                cells.errors.append(self.dead_codes[code])
        half_point = (values.get("lon") is None) != (values.get("lat") is None)
        if "lon" in values and half_point and not cells.errors:
            cells.errors.append(_ferr("lon", "extract.lonlat", "经度和纬度须同时填写或同时留空",
                                      "Longitude and latitude go together: give both or neither"))
        self._keep("houses", parsed, line, code, values, cells.errors)

    def _parse_persons(self, parsed: _Parsed, line: int, raw: dict[str, Any]) -> None:
        cells = _Cells(PERSONS, parsed.present, raw)
        values = cells.values
        key = None
        if values.get("id_number") and not any(e.field == "id_type" for e in cells.errors):
            try:
                result = parse_person_id(values["id_number"], values.get("id_type") or IdType.RESIDENT,
                                         field="id_number")
            except ValidationError as exc:
                cells.errors.extend(exc.errors)
            else:
                key = values["id_number"] = result.number
                parsed.id_results[key] = result
                if result.warnings:
                    self.report.warnings.append(RowIssue("persons", line, result.warnings))
                if key in parsed.rows:
                    cells.errors.append(self._duplicate(PERSONS.column("id_number"), parsed.rows[key].line))
        self._keep("persons", parsed, line, key, values, cells.errors)

    def _parse_residencies(self, parsed: _Parsed, line: int, raw: dict[str, Any]) -> None:
        cells = _Cells(RESIDENCIES, parsed.present, raw)
        values = cells.values
        if values.get("id_number"):
            values["id_number"] = self._known_person(values["id_number"], cells.errors)
        if values.get("house_external_code"):
            values["house_external_code"] = self._known_house(values["house_external_code"], cells.errors)
        start, end = values.get("start_date"), values.get("end_date")
        if start and end and end < start:
            cells.errors.append(_ferr("end_date", "extract.end_before_start", "“迁出日期”早于“入住日期”",
                                      "end_date is before start_date"))
        key = (values.get("id_number"), values.get("house_external_code"), start)
        if not cells.errors:
            cells.errors += self._residency_clashes(parsed, key, end is None)
        self._keep("residencies", parsed, line, key, values, cells.errors)

    def _known_person(self, text: str, errors: list[FieldError]) -> str:
        key, id_errors = _id_key(text)
        persons = self.parsed.get("persons")
        if key in self.persons or (persons and persons.knows(key)):
            return key
        errors.extend(id_errors or [_ferr(
            "id_number", "extract.unknown_person", f"证件号码{key}在人口表和系统中都不存在",
            f"No person with ID number {key} in the persons sheet or the registry")])
        return key

    def _known_house(self, text: str, errors: list[FieldError]) -> str:
        code = _normal_code(text)
        houses = self.parsed.get("houses")
        if code in self.houses or (houses and houses.knows(code)):
            return code
        errors.append(self.dead_codes.get(code) or _ferr(
            "house_external_code", "extract.unknown_house", f"房屋外部编码{code}在房屋表和系统中都不存在",
            f"No house with external code {code} in the houses sheet or the registry"))
        return code

    def _residency_clashes(self, parsed: _Parsed, key: tuple[Any, ...], is_open: bool) -> list[FieldError]:
        if key in parsed.rows:
            return [self._duplicate(RESIDENCIES.column("start_date"), parsed.rows[key].line)]
        other = parsed.open_lines.get(key[0]) if is_open else None
        if other:  # one open residency per person: the file may not put someone in two places
            return [_ferr("end_date", "extract.two_open", f"同一人在第{other}行还有一条未迁出的居住记录",
                          f"The same person has another open residency on line {other}")]
        return []

    def _keep(self, shape: str, parsed: _Parsed, line: int, key: Any, values: dict[str, Any],
              errors: list[FieldError]) -> None:
        if errors:
            self.report.errors.append(RowIssue(shape, line, tuple(errors)))
            if key is not None:
                parsed.bad_keys.add(key)
            return
        parsed.rows[key] = _Row(line, values)
        if shape == "residencies" and values.get("end_date") is None:
            parsed.open_lines[key[0]] = line

    # -- writing (only reached when every row is good) --

    def apply(self) -> None:
        if "houses" in self.parsed:
            self._apply_houses(self.parsed["houses"], self.report.shapes["houses"])
        if "persons" in self.parsed:
            self._apply_persons(self.parsed["persons"], self.report.shapes["persons"])
        if "residencies" in self.parsed:
            _Residencies(self).apply(self.parsed["residencies"], self.report.shapes["residencies"])

    def _apply_houses(self, parsed: _Parsed, out: ShapeReport) -> None:
        fields = [c.key for c in HOUSES.columns if c.key in parsed.present and c.key != "external_code"]
        before = dict(self.houses)
        seen: set[uuid.UUID] = set()
        for n, (code, row) in enumerate(parsed.rows.items(), start=1):
            changes = _changes(row.values, fields)
            house = self.houses.get(code)
            if house is None:
                house = self._new_house(code, changes)
                out.new.append(Item(code, house.address, row.line, record_id=house.id))
            elif diff := apply_changes(house, changes, self.by):
                out.changed.append(Item(code, house.address, row.line, diff, record_id=house.id))
            else:
                out.unchanged += 1
            seen.add(house.id)
            self.progress.tick("apply:houses", n, len(parsed.rows))
        gone = {h.id: Item(code, h.address, record_id=h.id) for code, h in before.items() if h.id not in seen}
        out.gone = list(gone.values())  # a house with two external codes is listed once
        self.progress.end("apply:houses", len(parsed.rows))

    def _new_house(self, code: str, changes: dict[str, Any]) -> House:
        # No cell here: placing houses in cells by geometry is the geo module's job.
        house = House(id=uuid.uuid4(), cell_id=None, changed_by_id=self.by, **changes)
        self.session.add(house)
        self.session.add(HouseCode(id=uuid.uuid4(), code=code, kind="external", house_id=house.id,
                                   changed_by_id=self.by))
        self.houses[code] = house
        return house

    def _apply_persons(self, parsed: _Parsed, out: ShapeReport) -> None:
        fields = [c.key for c in PERSONS.columns if c.key in parsed.present and c.key != "id_number"]
        before = dict(self.persons)
        for n, (key, row) in enumerate(parsed.rows.items(), start=1):
            changes = _changes(row.values, fields) | _from_id(parsed.id_results[key])
            person = self.persons.get(key)
            if person is None:
                person = Person(id=uuid.uuid4())
                apply_changes(person, {"id_number": key, **changes}, self.by)
                self.session.add(person)
                self.persons[key] = person
                out.new.append(Item(key, person.name or "", row.line, record_id=person.id, id_number=key))
            elif diff := apply_changes(person, changes | {"id_number": key}, self.by):
                out.changed.append(Item(key, person.name or "", row.line, diff, record_id=person.id,
                                        id_number=key))
            else:
                out.unchanged += 1
            self.progress.tick("apply:persons", n, len(parsed.rows))
        out.gone = [Item(key, p.name or "", record_id=p.id, id_number=key) for key, p in before.items()
                    if key not in parsed.rows and p.id in self.imported_person_ids]
        self.progress.end("apply:persons", len(parsed.rows))


def _changes(values: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """The extract's values for the columns it has; a blank NOT NULL column keeps what is there."""
    return {k: values.get(k) for k in fields if not (values.get(k) is None and k in _NOT_NULL)}


def _from_id(result: IdResult) -> dict[str, Any]:
    """What the ID number itself says (birth date, sex) wins over what was typed before."""
    said = {"birth_date": result.birth_date, "sex": result.sex}
    return {k: v for k, v in said.items() if v is not None}


class _Residencies:
    """Applies residency rows: match, close, move (end the old one first), add."""

    def __init__(self, work: _Importer) -> None:
        self.work = work
        self.code_of = {h.id: code for code, h in work.houses.items()}
        self.person_of = {p.id: (key, p) for key, p in work.persons.items()}
        self.touched: set[uuid.UUID] = set()
        self.exact: dict[int, Residency] = {}  # line → the residency with the row's house and start

    def apply(self, parsed: _Parsed, out: ShapeReport) -> None:
        existing = [r for rs in self.work.residencies.values() for r in rs]
        # Closing rows first, so that a move listed as "old closed + new open" needs no guess.
        rows = sorted(parsed.rows.values(), key=lambda r: (r.values.get("end_date") is None, r.line))
        self._reserve_exact(rows)
        fresh: list[Residency] = []
        for n, row in enumerate(rows, start=1):
            self._apply_row(row, parsed.present, out, fresh)
            self.work.progress.tick("apply:residencies", n, len(rows))
        # The partial unique index allows one open residency per person: end the old ones first.
        self.work.session.flush()
        self.work.session.add_all(fresh)
        out.gone = [self._item(r) for r in existing if r.source == Source.IMPORT.value
                    and r.end_date is None and r.id not in self.touched]
        self.work.progress.end("apply:residencies", len(rows))

    def _reserve_exact(self, rows: list[_Row]) -> None:
        """Exact matches first, so that another row's looser match cannot take them."""
        for row in rows:
            v = row.values
            mine = self.work.residencies[self.work.persons[v["id_number"]].id]
            house_id = self.work.houses[v["house_external_code"]].id
            same = (r for r in mine if r.house_id == house_id and r.start_date == v["start_date"])
            if (found := next(same, None)) is not None:
                self.exact[row.line] = found

    def _match(self, row: _Row, mine: list[Residency], house_id: uuid.UUID) -> Residency | None:
        """The same stay: same house and start, else the open stay in that house (police dates drift)."""
        if row.line in self.exact:
            return self.exact[row.line]
        taken = {r.id for r in self.exact.values()}
        open_here = (r for r in mine if r.house_id == house_id and r.end_date is None and r.id not in taken)
        return next(open_here, None)

    def _apply_row(self, row: _Row, present: set[str], out: ShapeReport, fresh: list[Residency]) -> None:
        v = row.values
        person = self.work.persons[v["id_number"]]
        house = self.work.houses[v["house_external_code"]]
        mine = self.work.residencies[person.id]
        match = self._match(row, mine, house.id)
        if match is not None:
            self._update(match, row, present, out)
            return
        if v.get("end_date") is None:
            self._end_elsewhere(mine, v["start_date"], out)
        new = Residency(id=uuid.uuid4(), person_id=person.id, house_id=house.id, start_date=v["start_date"],
                        end_date=v.get("end_date"), relation=v.get("relation") or Relation.TENANT.value,
                        source=Source.IMPORT.value, changed_by_id=self.work.by)
        self.code_of.setdefault(house.id, v["house_external_code"])
        self.person_of.setdefault(person.id, (v["id_number"], person))
        mine.append(new)
        fresh.append(new)
        self.touched.add(new.id)
        out.new.append(self._item(new, row.line, house))

    def _update(self, match: Residency, row: _Row, present: set[str], out: ShapeReport) -> None:
        v = row.values
        changes: dict[str, Any] = {"start_date": v["start_date"]}
        if v.get("relation"):
            changes["relation"] = v["relation"]
        if v.get("end_date") is not None:
            changes["end_date"] = v["end_date"]
        elif match.end_date is not None and "end_date" in present:
            # Reopening would override a coordinator's "moved out": keep it, ask for review.
            self.work.report.warnings.append(RowIssue("residencies", row.line, (_ferr(
                "end_date", "extract.kept_closed", f"系统中该居住记录已于{match.end_date}迁出，未重新打开，请核实",
                f"This residency ended on {match.end_date} in the registry; not reopened, please review"),)))
        self.touched.add(match.id)
        if diff := apply_changes(match, changes, self.work.by):
            out.changed.append(self._item(match, row.line, diff=diff))
        else:
            out.unchanged += 1

    def _end_elsewhere(self, mine: list[Residency], start: date, out: ShapeReport) -> None:
        """Moving house is normal: the old open residency ends the day before the new one."""
        for old in mine:
            if old.end_date is None and old.deleted_at is None:
                end = max(old.start_date, start - timedelta(days=1))
                diff = apply_changes(old, {"end_date": end, "end_reason": "迁居（派出所数据导入）"}, self.work.by)
                self.touched.add(old.id)
                out.changed.append(self._item(old, diff=diff, note="moved"))

    def _item(self, r: Residency, line: int | None = None, house: House | None = None,
              diff: dict[str, tuple[Any, Any]] | None = None, note: str | None = None) -> Item:
        id_number, person = self.person_of.get(r.person_id, (str(r.person_id), None))
        code = self.code_of.get(r.house_id, "")
        house = house or (self.work.houses.get(code) if code else None)
        label = f"{person.name if person else ''} · {house.address if house else r.house_id}"
        return Item(f"{id_number}/{code}/{r.start_date.isoformat()}", label, line, diff or {}, note,
                    r.id, id_number if person else None)


# --- Export ------------------------------------------------------------------------------


HouseFilter = Iterable[uuid.UUID | str] | Select[Any] | None


def export_extract(
    session: Session,
    shape: str,
    fmt: Literal["csv", "xlsx"],
    out: IO[bytes],
    *,
    header_note: str,
    house_ids: HouseFilter = None,
    mask_ids: bool = False,
) -> int:
    """Write one shape in the import's columns; return the number of data rows.

    `house_ids` limits the export to visible houses (a list or a select of house ids);
    persons and residencies follow through residencies in those houses. The note goes on a
    leading "#" line (and, in XLSX, into the document properties and a "说明" sheet).
    """
    if shape not in SHAPES:
        raise ValueError(f"unknown extract shape: {shape!r}")
    spec = SHAPES[shape]
    rows = _EXPORTERS[spec.key](session, _house_filter(house_ids), mask_ids)
    if fmt == "csv":
        return _write_csv(spec, rows, out, header_note)
    if fmt == "xlsx":
        return _write_xlsx(spec, rows, out, header_note)
    raise ValueError(f"unknown export format: {fmt!r}")


def _house_filter(house_ids: HouseFilter) -> Select[Any] | list[uuid.UUID] | None:
    if house_ids is None or isinstance(house_ids, Select):
        return house_ids
    return [h if isinstance(h, uuid.UUID) else uuid.UUID(str(h)) for h in house_ids]


def _external_codes(session: Session) -> dict[uuid.UUID, str]:
    """house id → its external code; dict() keeps the last, so current codes sort last."""
    stmt = (select(HouseCode.house_id, HouseCode.code)
            .where(HouseCode.kind == "external", HouseCode.deleted_at.is_(None))
            .order_by(HouseCode.retired_at.is_not(None).desc(), HouseCode.code.desc()))
    return {house_id: code for house_id, code in session.execute(stmt)}


def _export_houses(session: Session, only: Any, mask_ids: bool) -> Iterator[dict[str, Any]]:
    codes = _external_codes(session)
    stmt = select(House).where(House.deleted_at.is_(None)).order_by(
        House.road, House.number, House.building, House.unit, House.floor, House.room, House.id)
    if only is not None:
        stmt = stmt.where(House.id.in_(only))
    for h in session.scalars(stmt.execution_options(yield_per=1000)):
        yield {"external_code": codes.get(h.id), **{c.key: getattr(h, c.key) for c in HOUSES.columns[1:]}}


def _export_persons(session: Session, only: Any, mask_ids: bool) -> Iterator[dict[str, Any]]:
    stmt = (select(Person).where(Person.deleted_at.is_(None), Person.id_number.is_not(None))
            .order_by(Person.id_number))
    if only is not None:
        stmt = stmt.where(Person.id.in_(select(Residency.person_id).where(
            Residency.house_id.in_(only), Residency.deleted_at.is_(None))))
    for p in session.scalars(stmt.execution_options(yield_per=1000)):
        row = {c.key: getattr(p, c.key) for c in PERSONS.columns}
        row["id_number"] = mask_id(p.id_number or "") if mask_ids else p.id_number
        yield row


def _export_residencies(session: Session, only: Any, mask_ids: bool) -> Iterator[dict[str, Any]]:
    codes = _external_codes(session)
    stmt = (select(Residency, Person.id_number).join(Person, Person.id == Residency.person_id)
            .where(Residency.deleted_at.is_(None), Person.deleted_at.is_(None), Person.id_number.is_not(None))
            .order_by(Person.id_number, Residency.start_date, Residency.id))
    if only is not None:
        stmt = stmt.where(Residency.house_id.in_(only))
    for r, id_number in session.execute(stmt.execution_options(yield_per=1000)):
        yield {"id_number": mask_id(id_number) if mask_ids else id_number,
               "house_external_code": codes.get(r.house_id), "relation": r.relation,
               "start_date": r.start_date, "end_date": r.end_date}


_EXPORTERS: dict[str, Callable[[Session, Any, bool], Iterator[dict[str, Any]]]] = {
    "houses": _export_houses, "persons": _export_persons, "residencies": _export_residencies,
}


def _out_value(col: Column, value: Any) -> Any:
    """A Python value for a cell: enums as Chinese labels, text guarded against formulas."""
    if value is None:
        return None
    if col.kind == "enum" and col.choices is not None:
        return _zh_labels(col.choices).get(value, value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return repr(value) if isinstance(value, float) else str(value)


def _note_line(note: str) -> str:
    text = " ".join(note.split())
    return text if text.startswith(COMMENT) else f"{COMMENT} {text}"


def _write_csv(spec: Shape, rows: Iterator[dict[str, Any]], out: IO[bytes], note: str) -> int:
    out.write(codecs.BOM_UTF8)  # so that Excel reads the Chinese as UTF-8
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)  # type: ignore[arg-type]
    try:
        if note.strip():
            text.write(_note_line(note) + "\r\n")
        writer = csv.writer(text)
        writer.writerow([c.zh for c in spec.columns])
        count = 0
        for count, row in enumerate(rows, start=1):
            writer.writerow([_csv_cell(_out_value(c, row.get(c.key))) for c in spec.columns])
        return count
    finally:
        text.flush()
        text.detach()


def _write_xlsx(spec: Shape, rows: Iterator[dict[str, Any]], out: IO[bytes], note: str) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = Workbook(write_only=True)
    wb.properties.title = f"{spec.zh} {spec.en}"
    wb.properties.description = note
    ws = wb.create_sheet(spec.zh)
    if note.strip():
        ws.append([_note_line(note)])
    ws.append([c.zh for c in spec.columns])
    count = 0
    for count, row in enumerate(rows, start=1):
        cells = []
        for col in spec.columns:
            value = _out_value(col, row.get(col.key))
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell = WriteOnlyCell(ws, value)
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        ws.append(cells)
    _note_sheet(wb.create_sheet(NOTE_SHEET), spec, note)
    wb.save(out)
    return count


def _note_sheet(ws: Any, spec: Shape, note: str) -> None:
    ws.append(["说明", note])
    ws.append([])
    ws.append(["列名", "英文键", "必填", "格式"])
    for col in spec.columns:
        fmt = {"date": "YYYY-MM-DD", "enum": "、".join(l for _, l in col.choices("zh")) if col.choices else "",
               "int": "整数", "float": "数字"}.get(col.kind, "文本")
        ws.append([col.zh, col.key, "是" if col.required else "", fmt])

"""Parsing one row's cells into values: text, numbers, dates, enum labels, ID numbers and codes."""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from webapp.registry import spreadsheet
from webapp.registry.extract.spec import Column, Shape
from webapp.base import plain_settings
from webapp.validation import ranges
from webapp.validation.text import storable
from webapp.validation import (FieldError, ValidationError, parse_landline, parse_mobile, parse_person_id, parse_region,
                               parse_uscc)

# 2025-01-31, 2025/1/31, 2025.1.31, 2025年1月31日, optionally followed by a time of day.
_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")


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
    value = spreadsheet.read_back(value)
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
        if not storable(text):
            # A NUL (a file saved by a broken tool) was stored on SQLite and failed the whole
            # import on PostgreSQL: this cell's error instead, located like any other.
            self.fail(col, "extract.characters", "含有无法保存的字符（空字符 NUL）",
                      "contains characters that cannot be stored (NUL)")
            return None
        if col.max_len and len(text) > col.max_len:
            self.fail(col, "extract.too_long", f"最多{col.max_len}个字符", f"at most {col.max_len} characters")
            return None
        if col.kind in ("text", "id"):  # ID numbers are normalised by the shape, which knows their type
            return text
        parse: Callable[[Column, Any, str], Any] = getattr(self, f"_{col.kind}")
        return parse(col, raw, text)

    def _phone(self, col: Column, raw: Any, text: str) -> str | None:
        """A mobile; a fixed line in this column (police records carry them) comes back as
        "021-62345678", which the persons' shape moves to the landline column."""
        try:
            return parse_mobile(text, field=col.key)
        except ValidationError as exc:
            try:
                return parse_landline(text, field=col.key, default_area=_landline_area())
            except ValidationError:
                self.errors.extend(exc.errors)
                return None

    def _parsed(self, parse: Callable[[str], str], text: str) -> str | None:
        try:
            return parse(text)
        except ValidationError as exc:
            self.errors.extend(exc.errors)
            return None

    def _landline(self, col: Column, raw: Any, text: str) -> str | None:
        return self._parsed(lambda t: parse_landline(t, field=col.key, default_area=_landline_area()), text)

    def _region(self, col: Column, raw: Any, text: str) -> str | None:
        return self._parsed(lambda t: parse_region(t, field=col.key), text)

    def _uscc(self, col: Column, raw: Any, text: str) -> str | None:
        return self._parsed(lambda t: parse_uscc(t, field=col.key), text)

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
        elif not ranges.plausible_day(found):
            # The window a push and the console keep (9999 typed for "long-term").
            low, high = (d.isoformat() for d in ranges.DAYS)
            self.fail(col, "extract.range", f"超出范围（{low}～{high}）：{text}", f"out of range ({low} to {high}): {text}")
            return None
        return found

    def _enum(self, col: Column, raw: Any, text: str) -> str | None:
        assert col.choices is not None
        code = _enum_lookup(col.choices).get(text.lower())
        if code is None:
            zh = "、".join(label for _, label in col.choices("zh"))
            en = ", ".join(value for value, _ in col.choices("en"))
            self.fail(col, "extract.choice", f"不是可选值（{zh}）：{text}", f"unknown value (allowed: {en}): {text}")
        return code


def _landline_area() -> str:
    return str(plain_settings.setting("LANDLINE_AREA_CODE"))


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

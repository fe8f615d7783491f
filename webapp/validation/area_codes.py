"""GB/T 2260 administrative division codes, current and retired.

The list comes from the `python-stdnum` package (its `cn/loc.dat`, compiled from the
published code tables with the years each code was in use). It is read from the installed
package on first use and never fetched at run time. Retired codes matter here: an ID number
keeps the area code it was issued with for life, so 310108 (闸北区, merged 2015) is still on
many Shanghai residents' cards.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from webapp.validation.errors import fail

# Names GB/T 2260 uses for grouping rows rather than real places; skipped in full names
# and never offered as a county.
_PLACEHOLDERS = frozenset(
    {"市辖区", "县", "省直辖县级行政单位", "自治区直辖县级行政单位", "省直辖行政单位"}
)
_SEGMENT = re.compile(r"^\[(\d*)-(\d*)\](.*)$")
_PROP = re.compile(r'(\w+)="([^"]*)"')


class AreaDataError(RuntimeError):
    """The area-code package is not installed."""


@dataclass(frozen=True)
class _Span:
    start: int | None  # first year in use; None = before the data's first revision
    end: int | None  # last year in use; None = still current
    name: str


@cache
def _table() -> dict[str, tuple[_Span, ...]]:
    """Code → its names over time, parsed once from python-stdnum's data file."""
    try:
        text = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise AreaDataError(
            "GB/T 2260 area codes need the python-stdnum package (see requirements.txt)"
        ) from exc
    table: dict[str, tuple[_Span, ...]] = {}
    stack: list[tuple[int, str]] = []  # (indent, code prefix) of the enclosing lines
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        head, _, rest = line.strip().partition(" ")
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1] if stack else ""
        props = dict(_PROP.findall(rest))
        for part in _expand(head):
            code = parent + part
            if len(code) == 6 and "county" in props:
                table[code] = tuple(_spans(props["county"]))
        stack.append((indent, parent + _expand(head)[0]))
    return table


def _expand(head: str) -> list[str]:
    """A prefix column entry, "0101" or a range "0101-0105", as its list of prefixes."""
    out: list[str] = []
    for item in head.split(","):
        lo, _, hi = item.partition("-")
        if not hi:
            out.append(lo)
        else:
            out.extend(str(n).zfill(len(lo)) for n in range(int(lo), int(hi) + 1))
    return out


def _spans(value: str) -> list[_Span]:
    spans = []
    for seg in value.split(","):
        m = _SEGMENT.match(seg)
        if m:
            start, end, name = m.groups()
            spans.append(_Span(int(start) if start else None, int(end) if end else None, name))
        else:
            spans.append(_Span(None, None, seg))
    return spans


def is_known_area_code(code: str) -> bool:
    """True if the code is or was a GB/T 2260 code (any level, current or retired)."""
    return code in _table()


def is_current_area_code(code: str) -> bool:
    """True if the code is in the current GB/T 2260 list."""
    return any(s.end is None for s in _table().get(code, ()))


def area_name(code: str) -> str | None:
    """The code's own name (current, else its last one), e.g. "松江区"; None if unknown."""
    spans = _table().get(code)
    if not spans:
        return None
    current = [s for s in spans if s.end is None]
    return (current or sorted(spans, key=lambda s: s.end or 0))[-1].name


def area_full_name(code: str) -> str | None:
    """Province, prefecture and county names joined, e.g. "上海市松江区"; None if unknown."""
    if not is_known_area_code(code):
        return None
    parts: list[str] = []
    for level in dict.fromkeys((code[:2] + "0000", code[:4] + "00", code)):
        name = area_name(level)
        if name and name not in _PLACEHOLDERS and name not in parts:
            parts.append(name)
    return "".join(parts) or area_name(code)


def county_codes(province_prefix: str | None = None) -> list[str]:
    """Current county-level codes (sorted), optionally only those starting with a prefix."""
    prefix = province_prefix or ""
    if not prefix.isdigit() and prefix:
        raise ValueError(f"area code prefix must be digits, got {province_prefix!r}")
    return sorted(
        code
        for code, spans in _table().items()
        if code.startswith(prefix)
        and not code.endswith("00")
        and any(s.end is None and s.name not in _PLACEHOLDERS for s in spans)
    )


def parse_region(value: str | None, field: str = "hukou_region") -> str:
    """A hukou region: a current county-level GB/T 2260 code (picked from the list, never a
    province, a retired county or a made-up number); raise ValidationError."""
    code = "".join((value or "").split())
    if not code:
        raise fail(field, "region.required", "请选择户籍所在区县", "Choose the hukou district or county")
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        raise fail(field, "region.format", "户籍地区码应为6位数字", "A hukou region code has 6 digits")
    if code not in _counties():
        raise fail(field, "region.unknown", "户籍地区码不是现行的区县代码，请从列表中选择",
                   "Not a current district or county code: choose one from the list")
    return code


@cache
def _counties() -> frozenset[str]:
    return frozenset(county_codes())


def county_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Current counties grouped by province, for a picker: [(province name, [(code, name)])]."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for code in county_codes():
        province = area_name(code[:2] + "0000") or code[:2]
        groups.setdefault(province, []).append((code, area_full_name(code) or code))
    return list(groups.items())

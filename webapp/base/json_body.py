"""Reading JSON from outside defensively: encoding, numbers and nesting. A push's body
(webapp/api) and a phone's exported outbox (sync/rescue.py) are read by it alike.

Python's json parser recurses per nesting level: a body of a few hundred kilobytes of `[`
ends in a RecursionError (a 500), and a merely deep one would be walked recursively later
(merge, storage as JSON). No client of ours nests beyond a handful of levels, so anything
deeper than MAX_DEPTH is refused before any other code sees it.
"""
from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 32
# Integers the databases can hold (BIGINT); a larger one can only be an attack or a bug.
MAX_INT = 2**63 - 1


class BodyRefused(Exception):
    def __init__(self, status: int, code: str, en: str, zh: str) -> None:
        super().__init__(en)
        self.status, self.code, self.en, self.zh = status, code, en, zh

    @property
    def detail(self) -> str:
        return f"{self.en} / {self.zh}"


def _refuse_constant(name: str) -> Any:
    # NaN and ±Infinity are not JSON (RFC 8259) and PostgreSQL's json refuses them.
    raise ValueError(f"{name} is not a JSON number")


def parse(raw: bytes, encoding: str = "utf-8") -> Any:
    """The decoded body, or BodyRefused (400 invalid_json, 422 json_too_deep)."""
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        raise BodyRefused(400, "invalid_json", "the body is not UTF-8", "请求体不是 UTF-8 编码") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_int=_int, parse_float=_float)
    except RecursionError:
        raise _too_deep() from None
    except ValueError:
        raise BodyRefused(400, "invalid_json", "the body is not valid JSON", "请求体不是有效的 JSON") from None
    if isinstance(value, dict | list):
        _check(value)
    return value


def _too_deep() -> BodyRefused:
    return BodyRefused(422, "json_too_deep", f"JSON nested deeper than {MAX_DEPTH} levels", "JSON 嵌套过深")


# Numbers are checked as the parser meets them (its hooks), so the walk below visits only
# containers: walking every value of a 500-mutation push took 5 ms.
def _int(text: str) -> int:
    # Past 20 characters (a sign and 19 digits) no integer fits, and past 4,300 digits int()
    # itself refuses (CPython's guard): that was answered as "not valid JSON".
    if len(text) > 20 or abs(value := int(text)) > MAX_INT:
        raise BodyRefused(422, "number_out_of_range", "an integer is out of range", "整数超出范围")
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400
        raise BodyRefused(422, "number_out_of_range", "a number is out of range", "数值超出范围")
    return value


def _check(value: Any) -> None:
    """Iteratively (no recursion of our own): the depth of nesting."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _too_deep()
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))

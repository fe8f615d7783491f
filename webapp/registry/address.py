"""Addresses as written, read forgivingly: one rule, here and in the field app (static/pwa/address.js),
held to the same cases (tests/vectors/address.json).

- `format_address`: the parts as Shanghai writes them ("谷阳北路21弄1号楼1001室"): 号 after an
  all-digit number, 号楼 after an all-digit building, 单元, 室 likewise; parts already spelled out
  ("宿舍楼", "21弄") stay as they are.
- `tokens`: text read as coordinators type it. Unicode NFKC (full-width digits and letters),
  upper case; spaces separate words (not a number from its word: "1 号楼"); Chinese numerals before an address word become digits
  (二十一弄 → 21弄, 一零零一室 → 1001室); 栋, 幢 and 座 after a number mean 号楼. A word is then
  cut into numbers, each with the word that follows it (号楼, 单元, 弄, 号, 室, 层) or none, and text.
- `matches`: a query matches an address when its tokens appear in the address's tokens in the
  same order: text inside text ("谷阳" in "谷阳北路"), a number as the same number with the same
  word, or either without one ("1001" finds 1001室, "21号" does not find 21弄).
- `natural_key`: digits compare as numbers (101室 before 1001室), everything else by code point.
- `part_key`: one part of an address (road, number, building, room) as compared: `normalise`d,
  and without the word that part means anyway (a number part in numerals alone is that number) ("88号" is number 88; "1号楼", "1号", "1栋",
  "一号楼" are building 1; "1001室" is room 1001). Other words stay ("21弄" is not 21号).
- `hukou_place`: where a hukou address is against the house a person lives in: "same" (the
  region is the subdistrict's and road, number and building agree, and the room too at the
  `address` level), "elsewhere", or "unknown" (no region or no road to compare). The stored
  keys (`hukou_keys`, `house_keys`: webapp/registry/address_keys.py keeps them) let the 人户分离
  rule compare in SQL by the same rule.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

Token = tuple[str, ...]  # ("text", value) or ("num", value, word) with word "" for none

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_WORDS = "号楼|单元|弄|号|室|层"
_CN_ONLY = re.compile(r"[零〇一二两三四五六七八九十百千]+")
_CN_NUMBER = re.compile(rf"([零〇一二两三四五六七八九十百千]+)(?=(?:{_WORDS}|栋|幢|座|楼))")
_BUILDING = re.compile(r"([0-9A-Z]+)(?:栋|幢|座)")
_SPACED_WORD = re.compile(rf"([0-9A-Z])\s+(?=(?:{_WORDS}|栋|幢|座))")  # "1 号楼" is one word
_TOKEN = re.compile(rf"([0-9A-Z][0-9A-Z\-]*)({_WORDS})?|([^0-9A-Z]+)")


def _cn_number(text: str) -> str:
    if not any(c in _CN_UNITS for c in text):
        return "".join(str(_CN_DIGITS[c]) for c in text)  # read digit by digit: 一零零一 → 1001
    total = current = 0
    for c in text:
        if c in _CN_UNITS:
            total += (current or 1) * _CN_UNITS[c]
            current = 0
        else:
            current = _CN_DIGITS[c]
    return str(total + current)


def normalise(word: str) -> str:
    text = unicodedata.normalize("NFKC", word).upper()
    text = re.sub(r"\s+", "", text)
    text = _CN_NUMBER.sub(lambda m: _cn_number(m.group(1)), text)
    return _BUILDING.sub(r"\1号楼", text)


def tokens(text: str) -> list[Token]:
    out: list[Token] = []
    text = _SPACED_WORD.sub(r"\1", unicodedata.normalize("NFKC", text or "").upper())
    for word in text.split():
        for number, marker, rest in _TOKEN.findall(normalise(word)):
            out.append(("num", number, marker) if number else ("text", rest))
    return out


def format_address(parts: Mapping[str, Any]) -> str:
    """The address of a house (its road, number, building, unit and room), as House.address writes it."""
    def part(key: str, word: str) -> str:
        value = str(parts.get(key) or "").strip()
        return f"{value}{word}" if value.isascii() and value.isdigit() else value
    return "".join([str(parts.get("road") or "").strip(), part("number", "号"), part("building", "号楼"),
                    part("unit", "单元"), part("room", "室")])


def _token_matches(q: Token, h: Token) -> bool:
    if q[0] != h[0]:
        return False
    if q[0] == "text":
        return q[1] in h[1]
    return q[1] == h[1] and (not q[2] or not h[2] or q[2] == h[2])


def matches(query: list[Token], address: list[Token]) -> bool:
    """Whether the query's tokens appear, in order, among the address's (the earliest match of
    each is always as good as a later one)."""
    if not query:
        return False
    at = 0
    for q in query:
        while at < len(address) and not _token_matches(q, address[at]):
            at += 1
        if at == len(address):
            return False
        at += 1
    return True


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, int(run)) if run[0] in "0123456789" else (1, run) for run in re.findall(r"[0-9]+|[^0-9]+", text or ""))


# The word each part's number carries by default; the same number with it or without it is one place.
_OWN_WORDS: dict[str, tuple[str, ...]] = {"road": (), "number": ("号",), "building": ("号楼", "号"), "room": ("室",)}
PARTS = ("road", "number", "building", "room")


def part_key(value: Any, part: str) -> str:
    text = normalise(str(value or ""))
    if part != "road" and _CN_ONLY.fullmatch(text):
        text = _cn_number(text)  # a number part written in numerals alone: "一零零一" is 1001
    for word in _OWN_WORDS[part]:
        stem = text[:-len(word)]
        if text.endswith(word) and stem and (stem[-1].isascii() and stem[-1].isalnum()):
            return stem
    return text


def place_keys(parts: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(road|number|building, room) of an address's parts; (None, None) without a road."""
    if not part_key(parts.get("road"), "road"):
        return None, None
    building = "|".join(part_key(parts.get(p), p) for p in ("road", "number", "building"))
    return building, part_key(parts.get("room"), "room")


def hukou_place(hukou: Mapping[str, Any], house: Mapping[str, Any], *, home_region: str, level: str) -> str:
    """"same", "elsewhere" or "unknown": the hukou address (region, road, number, building,
    room) against the house lived in (in `home_region`), at the "address" or "building" level."""
    mine, my_room = place_keys(hukou)
    if not hukou.get("region") or mine is None:
        return "unknown"
    theirs, their_room = place_keys(house)
    same = hukou["region"] == home_region and mine == theirs and (level == "building" or my_room == their_room)
    return "same" if same else "elsewhere"

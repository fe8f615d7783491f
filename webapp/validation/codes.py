"""Codes for units, houses and phones: USCC (GB 32100-2015), our house code, mainland mobiles
and fixed lines (area code + local number).

House code (the code on our QR door plate), designed here:

* Alphabet: the 31 characters of GB 32100 ("0-9" and "A-Y" without I, O, S, V, Z), so
  the plates never show letters that read like digits.
* Plate code: 9 body characters + 1 check character = 10 characters.
* Temporary field code: "T" + 9 body characters + 1 check character = 11 characters; the
  check covers the "T". A coordinator's device derives it offline from the new house's
  UUID (see `make_temp_house_code`), so the same house gets the same code everywhere.
  Length tells the two kinds apart (a plate code may itself start with T).
* Check: with character values v and the check value c, the sum over the code of
  v_i * 3^(n-1-i) must be 0 mod 31 (the check has weight 3^0 = 1). 31 is prime and 3 has
  order 30 mod 31, so for codes up to 30 characters all weights are distinct and nonzero:
  a single wrong character changes the sum by w * (a - b), and a swap of two different
  characters at positions i, j by (w_i - w_j) * (a - b); neither product can be 0 mod 31.
  So every single substitution and every transposition (adjacent or not) is caught.
* Look-alikes: O is read as 0 and I as 1. Neither letter is in the alphabet, so no valid
  code is changed by this; a user who typed O meant 0, or misread another character, and
  in that case the result differs from the real code in that one place, which the check
  catches as above. So the mapping only turns certain rejections into correct answers.
  S, V and Z are not mapped (5/U/2 are less common confusions in our plate font).
* A failed check does not say the expected check character: the typo is usually in the
  body, and "correcting" the last character would lead to another house.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid

from webapp.validation.errors import fail

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

HOUSE_BODY_LEN = 9
HOUSE_CODE_LEN = HOUSE_BODY_LEN + 1
TEMP_PREFIX = "T"
TEMP_CODE_LEN = HOUSE_CODE_LEN + 1
_LOOKALIKES = str.maketrans({"O": "0", "I": "1"})
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_AREA_CODE = re.compile(r"0[1-9][0-9]{1,2}")
# The local number of a fixed line never starts with 0 (a trunk prefix) or 1 (service numbers).
_LOCAL = re.compile(r"[2-9][0-9]{6,7}")
DEFAULT_AREA_CODE = "021"
_PHONE_JUNK = re.compile(r"[\s\-().]+")


def _compact(value: str | None, drop: str = r"\s") -> str:
    """NFKC (full-width input from Chinese IMEs), upper case, separators removed."""
    text = unicodedata.normalize("NFKC", value or "")
    return re.sub(f"[{drop}]+", "", text).upper()


def _bad_chars(code: str) -> str:
    return "".join(dict.fromkeys(c for c in code if c not in _VALUE))


# --- Unified social credit code ------------------------------------------------------


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a USCC."""
    if len(first17) != 17 or _bad_chars(first17):
        raise ValueError(f"need 17 characters from {ALPHABET}, got {first17!r}")
    total = sum(_VALUE[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def parse_uscc(value: str, field: str = "uscc") -> str:
    """Validate and normalise a unified social credit code; raise ValidationError."""
    code = _compact(value, r"\s\-")
    if not code:
        raise fail(
            field,
            "uscc.required",
            "统一社会信用代码不能为空",
            "Unified social credit code is required",
        )
    if len(code) != 18:
        raise fail(
            field, "uscc.length",
            f"统一社会信用代码应为18位，现为{len(code)}位",
            f"Unified social credit code must have 18 characters; got {len(code)}",
        )
    bad = _bad_chars(code)
    if bad:
        raise fail(
            field, "uscc.format",
            f"统一社会信用代码含有不允许的字符：{bad}（不使用I、O、S、V、Z）",
            f"Unified social credit code contains characters not allowed: {bad} "
            "(I, O, S, V and Z are never used)",
        )
    if not code[2:8].isdigit():
        raise fail(
            field, "uscc.format",
            "统一社会信用代码第3至8位（行政区划码）应为数字",
            "Unified social credit code characters 3 to 8 (the area code) must be digits",
        )
    if code[17] != uscc_check_char(code[:17]):
        # Never the expected character (see parse_house_code): the typo is usually elsewhere.
        raise fail(
            field, "uscc.check",
            "统一社会信用代码校验不通过：请对照营业执照逐位核对",
            "Unified social credit code failed its check: compare every character with the licence",
        )
    return code


# --- House code ----------------------------------------------------------------------


def house_check_char(body: str) -> str:
    """The mod-31 check character for a code body of up to 29 alphabet characters."""
    if not 1 <= len(body) <= 29 or _bad_chars(body):
        raise ValueError(f"need 1-29 characters from {ALPHABET}, got {body!r}")
    acc = 0
    for c in body:  # Horner: body weights 3^n .. 3^1, check weight 3^0
        acc = (acc + _VALUE[c]) * 3 % 31
    return ALPHABET[-acc % 31]


def make_house_code(body: str) -> str:
    """A plate code: the 9-character body followed by its check character."""
    if len(body) != HOUSE_BODY_LEN:
        raise ValueError(f"house code body must have {HOUSE_BODY_LEN} characters, got {body!r}")
    return body + house_check_char(body)


def make_temp_house_code(seed: uuid.UUID | bytes | str) -> str:
    """A temporary field code, derived only from a UUID (or bytes), so devices agree offline.

    Body = the first 8 bytes of SHA-256(uuid bytes) as a big-endian integer, mod 31^9,
    written as 9 base-31 digits (most significant first); then the check over "T" + body.
    """
    if isinstance(seed, uuid.UUID):
        data = seed.bytes
    elif isinstance(seed, str):
        data = uuid.UUID(seed).bytes
    else:
        data = bytes(seed)
    n = int.from_bytes(hashlib.sha256(data).digest()[:8], "big") % 31**HOUSE_BODY_LEN
    digits = []
    for _ in range(HOUSE_BODY_LEN):
        n, r = divmod(n, 31)
        digits.append(ALPHABET[r])
    body = TEMP_PREFIX + "".join(reversed(digits))
    return body + house_check_char(body)


def is_temp_house_code(code: str) -> bool:
    """True for a (normalised) temporary field code."""
    return len(code) == TEMP_CODE_LEN and code.startswith(TEMP_PREFIX)


def parse_house_code(value: str, field: str = "house_code") -> str:
    """Validate and normalise a plate or temporary house code; raise ValidationError."""
    code = _compact(value, r"\s\-").translate(_LOOKALIKES)
    if not code:
        raise fail(field, "house_code.required", "门牌码不能为空", "House code is required")
    bad = _bad_chars(code)
    if bad:
        raise fail(
            field, "house_code.format",
            f"门牌码含有不允许的字符：{bad}",
            f"House code contains characters not allowed: {bad}",
        )
    if len(code) != HOUSE_CODE_LEN and not is_temp_house_code(code):
        raise fail(
            field, "house_code.length",
            f"门牌码应为{HOUSE_CODE_LEN}位（临时码为T开头的{TEMP_CODE_LEN}位），现为{len(code)}位",
            f"House code must have {HOUSE_CODE_LEN} characters ({TEMP_CODE_LEN} starting "
            f"with T for a temporary code); got {len(code)}",
        )
    if code[-1] != house_check_char(code[:-1]):
        raise fail(
            field, "house_code.check",
            "门牌码校验不通过，请核对或重新扫码",
            "House code failed its check; please re-check it or scan the plate again",
        )
    return code


# --- Mainland mobile -----------------------------------------------------------------


def parse_mobile(value: str, field: str = "phone") -> str:
    """Validate a mainland mobile number; return its 11 digits without country code."""
    p = _PHONE_JUNK.sub("", unicodedata.normalize("NFKC", value or ""))
    if not p:
        raise fail(field, "phone.required", "手机号码不能为空", "Mobile number is required")
    for prefix in ("+86", "0086", "86"):
        if p.startswith(prefix) and len(p) == len(prefix) + 11:
            p = p[len(prefix):]
            break
    if not _MOBILE.fullmatch(p):
        raise fail(
            field, "phone.format",
            "手机号码应为以13至19开头的11位数字",
            "Mobile number must be 11 digits starting with 13 to 19",
        )
    return p


# --- Fixed line ----------------------------------------------------------------------


def area_code_length(digits: str) -> int:
    """Length of the area code a fixed-line number starts with: 010 and 020–029 have three
    digits (with eight-digit local numbers), every other area code four."""
    return 3 if digits[:2] in ("01", "02") else 4


def parse_landline(value: str, field: str = "landline", default_area: str = DEFAULT_AREA_CODE) -> str:
    """Validate a mainland fixed-line number; return it as "021-62345678".

    A number typed without its area code is in `default_area` (LANDLINE_AREA_CODE, Shanghai's
    021): elderly residents give their home number as they dial it. A mobile typed here is
    refused with a word saying where it goes.
    """
    p = _PHONE_JUNK.sub("", unicodedata.normalize("NFKC", value or ""))
    if not p:
        raise fail(field, "landline.required", "固定电话不能为空", "Fixed-line number is required")
    for prefix in ("+86", "0086"):
        if p.startswith(prefix):
            p = "0" + p[len(prefix):]
            break
    if not p.isascii() or not p.isdigit():
        raise fail(field, "landline.format", "固定电话只能由数字组成（可加区号和“-”）",
                   "A fixed-line number may contain only digits (with its area code and a hyphen)")
    if _MOBILE.fullmatch(p):
        raise fail(field, "landline.mobile", "这是手机号码，请填在“手机号码”中",
                   "This is a mobile number: enter it as the mobile phone")
    if not p.startswith("0"):
        p = default_area + p
    area, local = p[:area_code_length(p)], p[area_code_length(p):]
    if not _AREA_CODE.fullmatch(area) or not _LOCAL.fullmatch(local):
        raise fail(field, "landline.format", "固定电话应为区号加7至8位号码，如021-62345678",
                   "A fixed-line number is an area code and 7 or 8 digits, e.g. 021-62345678")
    if len(area) == 3 and len(local) != 8:
        raise fail(field, "landline.length", f"区号{area}的固定电话号码应为8位，现为{len(local)}位",
                   f"Numbers in area {area} have 8 digits; got {len(local)}")
    return f"{area}-{local}"

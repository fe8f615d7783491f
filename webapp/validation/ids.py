"""Person identity numbers: resident ID (GB 11643-1999), HMT and foreign permits, passports.

Checks run in a fixed order so that the first message is the most helpful one (and the
field app, tested on the same vectors, reports the same code): empty, length, characters,
wrong document type, birth date (real, not future, not too early), check character. Date
errors come before the check character because a mistyped date digit also breaks the check.
No message ever names the expected check character (nor does the field app, the import or
the API): the typo is usually elsewhere, and "fixing" the last character to what a message
said records a valid number of someone else.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from webapp.validation.area_codes import is_known_area_code
from webapp.validation.codes import parse_mobile
from webapp.validation.errors import FieldError, ValidationError, fail

WEIGHTS_GB11643 = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS_GB11643 = "10X98765432"  # indexed by S mod 11
# Nobody alive was born earlier; an older year is a typo (a published GB 11643 example
# born in 1880 is rejected on purpose, see tests/vectors/validation.json).
MIN_BIRTH_YEAR = 1890
HMT_AREAS = {"810000": "香港", "820000": "澳门", "830000": "台湾"}
OTHER_MAX_LEN = 32  # person.id_number is String(32)

_DIGITS17 = re.compile(r"^[0-9]{17}[0-9X]$")
_OLD_FOREIGN = re.compile(r"^[A-Z]{3}[0-9]{12}$")
_PASSPORT = re.compile(r"^[A-Z0-9]+$")
_DIGITS = re.compile(r"^[0-9]+$")
_SEPARATORS = re.compile(r"[\s\-]+")


class IdType(StrEnum):
    """Kinds of identity document a person can be registered with."""

    RESIDENT = "resident"  # 居民身份证
    HMT_PERMIT = "hmt_permit"  # 港澳台居民居住证
    FOREIGN_PERMANENT = "foreign_permanent"  # 外国人永久居留身份证
    PASSPORT = "passport"
    OTHER = "other"

    def label(self, lang: str = "zh") -> str:
        """The document's name, e.g. for a select box."""
        zh, en = _DOC_NAMES[self]
        return zh if lang.startswith("zh") else en

    @classmethod
    def choices(cls, lang: str = "zh") -> list[tuple[str, str]]:
        """(value, label) pairs in declaration order."""
        return [(m.value, m.label(lang)) for m in cls]


_DOC_NAMES = {
    IdType.RESIDENT: ("居民身份证", "Resident ID card"),
    IdType.HMT_PERMIT: ("港澳台居民居住证", "HK/Macao/Taiwan residence permit"),
    IdType.FOREIGN_PERMANENT: ("外国人永久居留身份证", "Foreign permanent residence ID card"),
    IdType.PASSPORT: ("护照", "Passport"),
    IdType.OTHER: ("其他证件", "Other document"),
}
# How messages name the number of each document type.
_NUMBER_NAMES = {
    IdType.RESIDENT: ("身份证号码", "ID number"),
    IdType.HMT_PERMIT: ("港澳台居民居住证号码", "HK/Macao/Taiwan residence permit number"),
    IdType.FOREIGN_PERMANENT: ("外国人永久居留身份证号码", "Foreign permanent residence ID number"),
    IdType.PASSPORT: ("护照号码", "Passport number"),
    IdType.OTHER: ("证件号码", "Document number"),
}


@dataclass(frozen=True)
class IdResult:
    """A valid identity number and what it says about its holder."""

    id_type: IdType
    number: str  # normalised: no spaces, upper case, legacy 15-digit form converted to 18
    birth_date: date | None
    sex: str | None  # "M" / "F" from the 17th digit, None where the number does not say
    area_code: str | None  # GB/T 2260 code in the number (issuing province for foreigners)
    legacy: bool  # the input was an old form (15-digit resident ID, 15-char foreign card)
    warnings: tuple[FieldError, ...] = ()

    @property
    def masked(self) -> str:
        """The number masked for display."""
        return mask_id(self.number)


def check_char_gb11643(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits of an ID number."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"need 17 digits, got {first17!r}")
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS_GB11643, strict=True))
    return CHECK_CHARS_GB11643[total % 11]


def shanghai_today() -> date:
    """Today's date in Shanghai (UTC+8 all year; no DST since 1991)."""
    try:
        return datetime.now(ZoneInfo("Asia/Shanghai")).date()
    except ZoneInfoNotFoundError:  # no tz database here: the fixed offset is exact for China
        return datetime.now(timezone(timedelta(hours=8))).date()


def parse_person_id(
    value: str,
    id_type: IdType | str = IdType.RESIDENT,
    *,
    field: str = "id_number",
    today: date | None = None,
) -> IdResult:
    """Validate and normalise an identity number of the given type; raise ValidationError."""
    when = today or shanghai_today()
    if isinstance(value, str) and isinstance(id_type, str):
        return _parsed(value, id_type, field, when)
    return _parse(value, id_type, field, when)


# A push looks each new person's number up (sync/state.py) before validating it (sync/validate.py):
# the same parse twice, 2 % of a 500-mutation push. Only results are kept (an IdResult is
# frozen); a refused number raises anew each time.
@lru_cache(maxsize=4096)
def _parsed(value: str, id_type: str, field: str, today: date) -> IdResult:
    return _parse(value, id_type, field, today)


def _parse(value: str, id_type: IdType | str, field: str, today: date) -> IdResult:
    try:
        kind = IdType(id_type)
    except ValueError:
        zh, en = f"未知的证件类型：{id_type}", f"Unknown ID type: {id_type}"
        raise fail("id_type", "id.type_unknown", zh, en) from None
    ctx = _Ctx(kind, field, today)
    text = unicodedata.normalize("NFKC", value or "")  # full-width digits from Chinese IMEs
    if kind is IdType.OTHER:
        return ctx.other(text)
    raw = _SEPARATORS.sub("", text).upper() if kind is not IdType.PASSPORT else _nows(text)
    if not raw:
        raise ctx.err("id.required", "{n}不能为空", "{N} is required")
    if kind is IdType.RESIDENT:
        return ctx.resident(raw)
    if kind is IdType.HMT_PERMIT:
        return ctx.hmt(raw)
    if kind is IdType.FOREIGN_PERMANENT:
        return ctx.foreign(raw)
    return ctx.passport(raw)


def _nows(text: str) -> str:
    return "".join(text.split()).upper()


@dataclass(frozen=True)
class _Ctx:
    """One parse: the type, the form field and "today", plus message helpers."""

    kind: IdType
    field: str
    today: date

    def err(self, code: str, zh: str, en: str, **kw: object) -> ValidationError:
        n_zh, n_en = _NUMBER_NAMES[self.kind]
        return fail(self.field, code, zh.format(n=n_zh, **kw), en.format(N=n_en, **kw))

    def warn(self, code: str, zh: str, en: str, **kw: object) -> FieldError:
        return self.err(code, zh, en, **kw).errors[0]

    def resident(self, raw: str) -> IdResult:
        if len(raw) not in (15, 18):
            raise self.err(
                "id.length",
                "{n}应为18位（旧版为15位），现为{k}位",
                "{N} must have 18 characters (15 for the old form); got {k}",
                k=len(raw),
            )
        legacy = len(raw) == 15
        if not (_DIGITS if legacy else _DIGITS17).fullmatch(raw):
            raise self.err(
                "id.format",
                "{n}只能由数字组成，最后一位可为X",
                "{N} may contain only digits, with X allowed as the last character",
            )
        if raw[:2] in ("81", "82", "83"):
            raise self.err(
                "id.type_hmt_permit",
                "以81、82、83开头的是港澳台居民居住证号码，请将证件类型选为“港澳台居民居住证”",
                "Numbers starting with 81, 82 or 83 are HK/Macao/Taiwan residence permits; "
                "choose that ID type",
            )
        if raw[0] == "9":
            raise self.err(
                "id.type_foreign_permanent",
                "以9开头的是外国人永久居留身份证号码，请将证件类型选为“外国人永久居留身份证”",
                "Numbers starting with 9 are foreign permanent residence ID cards; "
                "choose that ID type",
            )
        first17 = raw[:6] + "19" + raw[6:] if legacy else raw[:17]
        number = first17 + check_char_gb11643(first17) if legacy else raw
        result = self.gb11643(number, area_code=number[:6], legacy=legacy)
        if not is_known_area_code(number[:6]):
            # Counties are renamed and merged; an unknown code is worth a second look, no more.
            unknown = self.warn(
                "id.area_unknown",
                "{n}的地区码{c}不在行政区划代码表中，请核对",
                "{N} has area code {c}, which is not in the GB/T 2260 list; please double-check",
                c=number[:6],
            )
            return _with_warning(result, unknown)
        return result

    def hmt(self, raw: str) -> IdResult:
        self.need_18(raw)
        if raw[:6] not in HMT_AREAS:
            raise self.err(
                "id.hmt_area",
                "{n}应以810000（香港）、820000（澳门）或830000（台湾）开头",
                "{N} must start with 810000 (Hong Kong), 820000 (Macao) or 830000 (Taiwan)",
            )
        return self.gb11643(raw, area_code=raw[:6], legacy=False)

    def foreign(self, raw: str) -> IdResult:
        if len(raw) == 15:
            # 2004/2017 card: nationality letters + 12 digits, no published check: format only.
            if not _OLD_FOREIGN.fullmatch(raw):
                raise self.err(
                    "id.format",
                    "旧版{n}应为3个字母加12位数字",
                    "{N} (old form) must be 3 letters followed by 12 digits",
                )
            return IdResult(self.kind, raw, None, None, None, legacy=True)
        if len(raw) != 18:
            raise self.err(
                "id.length",
                "{n}应为18位（旧版为3个字母加12位数字），现为{k}位",
                "{N} must have 18 characters (old form: 3 letters and 12 digits); got {k}",
                k=len(raw),
            )
        self.need_18(raw)
        if raw[0] != "9":
            raise self.err(
                "id.foreign_prefix",
                "新版{n}以9开头；不以9开头的18位号码可能是居民身份证号码",
                "{N} (new form) starts with 9; an 18-digit number not starting with 9 "
                "may be a resident ID number",
            )
        # 9 + issuing province (2) + nationality (3) + birth date (8) + sequence (3) + check.
        province = raw[1:3] + "0000"
        result = self.gb11643(raw, area_code=province, legacy=False)
        if not is_known_area_code(province):
            unknown = self.warn(
                "id.area_unknown",
                "{n}的受理地代码{c}不是省级行政区划代码，请核对",
                "{N} has issuing-province code {c}, which is not a GB/T 2260 province; "
                "please double-check",
                c=raw[1:3],
            )
            return _with_warning(result, unknown)
        return result

    def passport(self, raw: str) -> IdResult:
        if not 5 <= len(raw) <= 17:
            raise self.err(
                "id.length",
                "{n}应为5至17位，现为{k}位",
                "{N} must have 5 to 17 characters; got {k}",
                k=len(raw),
            )
        if not _PASSPORT.fullmatch(raw):
            raise self.err(
                "id.format", "{n}只能包含字母和数字", "{N} may contain only letters and digits"
            )
        return IdResult(self.kind, raw, None, None, None, legacy=False)

    def other(self, text: str) -> IdResult:
        raw = _nows(text)
        if not raw:
            raise self.err("id.required", "{n}不能为空", "{N} is required")
        if len(raw) > OTHER_MAX_LEN:
            raise self.err(
                "id.length",
                "{n}最多{m}个字符，现为{k}个",
                "{N} may have at most {m} characters; got {k}",
                m=OTHER_MAX_LEN,
                k=len(raw),
            )
        if not raw.isprintable():
            raise self.err(
                "id.format", "{n}含有不可打印字符", "{N} contains non-printable characters"
            )
        return IdResult(self.kind, raw, None, None, None, legacy=False)

    def need_18(self, raw: str) -> None:
        if len(raw) != 18:
            raise self.err(
                "id.length", "{n}应为18位，现为{k}位", "{N} must have 18 characters; got {k}",
                k=len(raw),
            )
        if not _DIGITS17.fullmatch(raw):
            raise self.err(
                "id.format",
                "{n}只能由数字组成，最后一位可为X",
                "{N} may contain only digits, with X allowed as the last character",
            )

    def gb11643(self, number: str, *, area_code: str, legacy: bool) -> IdResult:
        """Birth date, then check character, of an 18-character GB 11643-style number."""
        born = self.birth(number[6:14])
        if number[17] != check_char_gb11643(number[:17]):
            # Never the expected character: the typo is usually in the middle, and "fixing" the
            # last character to what we said records a valid number of someone else.
            raise self.err(
                "id.check",
                "{n}校验不通过：请对照证件逐位核对",
                "{N} failed its check: compare every character with the card",
            )
        sex = "M" if int(number[16]) % 2 else "F"
        result = IdResult(self.kind, number, born, sex, area_code, legacy)
        if born.year < MIN_BIRTH_YEAR:
            # A well-formed number (the GB 11643 example is from 1880) but an unlikely living
            # person: flag it for a check rather than refuse what the card says.
            result = _with_warning(result, self.err(
                "id.birth_implausible",
                "{n}中的出生年份{y}早于{m}年，请核对",
                "{N} contains birth year {y}, before {m}; please check it",
                y=born.year, m=MIN_BIRTH_YEAR,
            ).errors[0])
        return result

    def birth(self, ymd: str) -> date:
        try:
            born = date(int(ymd[:4]), int(ymd[4:6]), int(ymd[6:]))
        except ValueError:
            raise self.err(
                "id.birth_invalid",
                "{n}中的出生日期{d}不是有效日期",
                "{N} contains birth date {d}, which is not a real date",
                d=ymd,
            ) from None
        if born > self.today:
            raise self.err(
                "id.birth_future",
                "{n}中的出生日期{d}晚于今天",
                "{N} contains birth date {d}, which is in the future",
                d=born.isoformat(),
            )
        return born


def _with_warning(result: IdResult, warning: FieldError) -> IdResult:
    return IdResult(
        result.id_type, result.number, result.birth_date, result.sex, result.area_code,
        result.legacy, result.warnings + (warning,),
    )


def mask_id(number: str) -> str:
    """Mask an identity number for display, keeping its length: "110***********002X"."""
    n = (number or "").strip()
    if len(n) >= 12:
        head, tail = 3, 4
    elif len(n) >= 5:  # passports: showing 7 of 9 characters would hide nothing
        head, tail = 1, 2
    else:
        return "*" * len(n)
    return n[:head] + "*" * (len(n) - head - tail) + n[-tail:]


def mask_numbers(text: str) -> str:
    """Free text with every run of 6 or more digits masked like an ID number: a search as the
    audit log keeps it, a request's address and referrer as the access log writes them.

    Read as the search reads a number: through the spaces and hyphens it ignores, and in any
    script of digits (`\\d`); "138 1234 5678" was kept in clear."""
    return _NUMBER_RUN.sub(lambda m: mask_id(_RUN_SEPARATORS.sub("", m.group(0))), text)


_NUMBER_RUN = re.compile(r"[\dXx](?:[ -]*[\dXx]){5,}")
_RUN_SEPARATORS = re.compile(r"[ -]")


def names_id_or_mobile(text: str) -> bool:
    """True if free text holds something read as a personal number: an ID-number-like run (15
    digits, or 17 digits and a digit or X) or a mainland mobile (1[3-9] and 9 digits, a +86 in
    front or not). Refused where residents write for others to read (a plate's report form).

    Read as a person types one: NFKC (full-width digits), any script of digits, spaces and
    hyphens between digits ignored. A run is taken in its groups as typed, so a number beside
    another ("ID 3101… 138…", one space between) is still seen; a room (1201室), a floor or a
    date (2026-12-07) is none of these."""
    normal = unicodedata.normalize("NFKC", text or "")
    for run in _DIGIT_RUN.finditer(normal):
        groups = [_ascii_digits(g) for g in _RUN_SEPARATORS.split(run.group(0)) if g]
        for first in range(len(groups)):
            joined = ""
            for group in groups[first:]:
                joined += group
                if len(joined) > 18:
                    break
                if _ID_LIKE.fullmatch(joined) or _MOBILE.fullmatch(joined):
                    return True
    return False


# Groups of digits (an X may end one) with spaces or hyphens between them.
_DIGIT_RUN = re.compile(r"\d+[Xx]?(?:[ \t-]+\d+[Xx]?)*")
_ID_LIKE = re.compile(r"[0-9]{15}|[0-9]{17}[0-9Xx]")
_MOBILE = re.compile(r"(?:86|0086)?1[3-9][0-9]{9}")


def _ascii_digits(group: str) -> str:
    # NFKC leaves other scripts' digits (Arabic-Indic, Devanagari...) as they are; \d matched them.
    return "".join(str(unicodedata.digit(c)) if c not in "Xx" else c for c in group)


def mask_phone(phone: str) -> str:
    """Mask a phone number for display: "138****5678" (normalised first when it is a mobile)."""
    try:
        p = parse_mobile(phone)
    except ValidationError:
        p = _nows(phone or "")
    if len(p) >= 11:
        return p[:3] + "*" * (len(p) - 7) + p[-4:]
    if len(p) >= 7:
        return "*" * (len(p) - 4) + p[-4:]
    return "*" * len(p)

"""webapp.validation: table-driven over tests/vectors/validation.json, plus property tests."""
from __future__ import annotations

import itertools
import re
import json
import subprocess
import sys
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.validation import (
    ALPHABET,
    Collector,
    IdType,
    ValidationError,
    area_codes,
    area_full_name,
    area_name,
    check_char_gb11643,
    county_choices,
    county_codes,
    house_check_char,
    is_current_area_code,
    is_known_area_code,
    is_temp_house_code,
    make_house_code,
    make_temp_house_code,
    mask_id,
    mask_phone,
    parse_house_code,
    parse_landline,
    parse_mobile,
    parse_region,
    parse_person_id,
    parse_uscc,
    shanghai_today,
    uscc_check_char,
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "validation.json").read_text("utf-8"))
TODAY = date.fromisoformat(VECTORS["today"])
ID_GROUPS = ("resident_id", "legacy_id", "hmt_permit", "foreign_permanent", "passport")
PROPS = settings(database=None, deadline=None, max_examples=150)


def cases(group: str, kind: str, *, key: str | None = None) -> list[pytest.param]:
    """The vectors of one group as pytest params with readable ids."""
    g = VECTORS[group]
    rows = g[kind]
    return [
        pytest.param(g.get("id_type"), row, id=f"{group}/{kind}/{row.get(key or 'id')}")
        for row in rows
    ]


def codes_of(fn, *args, **kwargs) -> list[str]:
    with pytest.raises(ValidationError) as info:
        fn(*args, **kwargs)
    return info.value.codes


# --- identity numbers: vectors -------------------------------------------------------


@pytest.mark.parametrize("id_type,row", [p for g in ID_GROUPS for p in cases(g, "valid")])
def test_id_valid(id_type: str, row: dict) -> None:
    r = parse_person_id(row["input"], id_type, today=TODAY)
    assert r.id_type == id_type
    assert r.number == row["number"]
    assert (r.birth_date.isoformat() if r.birth_date else None) == row["birth_date"]
    assert r.sex == row["sex"]
    assert r.area_code == row["area_code"]
    assert r.legacy is row["legacy"]
    assert [w.code for w in r.warnings] == row["warnings"]


@pytest.mark.parametrize("id_type,row", [p for g in ID_GROUPS for p in cases(g, "invalid")])
def test_id_invalid(id_type: str, row: dict) -> None:
    with pytest.raises(ValidationError) as info:
        parse_person_id(row["input"], id_type, field="guardian_id", today=TODAY)
    [err] = info.value.errors
    assert err.code == row["error"]
    assert err.field == "guardian_id"
    assert err.zh and err.en
    if "expected_check" in row:
        _never_reveals(err, row["expected_check"])


def _never_reveals(err, expected: str) -> None:
    """A check message names no character at all: not the expected one, and no digit or
    capital the user could take for it (issue 18: "应为5" led to valid but wrong numbers)."""
    for text in (err.zh, err.en):
        assert expected not in text and "应为" not in text and "expected" not in text, text
        assert not re.search(r"[0-9]|(?<![A-Za-z])[A-Z](?![A-Za-z])", text), text


@pytest.mark.parametrize(
    "row", [pytest.param(r, id=r["id"]) for r in VECTORS["check_char_gb11643"]]
)
def test_check_char_gb11643(row: dict) -> None:
    assert check_char_gb11643(row["first17"]) == row["check"]


@pytest.mark.parametrize(
    "bad", ["", "1234567890123456", "1101051949123100X", "１１０１０５１９４９１２３１００２"]
)
def test_check_char_gb11643_rejects_non_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        check_char_gb11643(bad)


def test_id_messages_name_the_document() -> None:
    [err] = errors_of(lambda: parse_person_id("110105194912310021", today=TODAY))
    assert err.zh == "身份证号码校验不通过：请对照证件逐位核对"
    assert err.en == "ID number failed its check: compare every character with the card"
    hmt = "810000199001011231"
    [err] = errors_of(lambda: parse_person_id(hmt, "hmt_permit", today=TODAY))
    assert err.zh.startswith("港澳台居民居住证号码") and err.en.startswith("HK/Macao/Taiwan")


def errors_of(call) -> list:
    with pytest.raises(ValidationError) as info:
        call()
    return info.value.errors


def test_unknown_id_type() -> None:
    [err] = errors_of(lambda: parse_person_id("E12345678", "driving_licence"))
    assert (err.field, err.code) == ("id_type", "id.type_unknown")


def test_other_document() -> None:
    r = parse_person_id("  沪军 字第123号 ", IdType.OTHER)
    assert r.number == "沪军字第123号" and r.birth_date is None
    assert codes_of(parse_person_id, " ", "other") == ["id.required"]
    assert codes_of(parse_person_id, "A" * 33, "other") == ["id.length"]


def test_default_today_is_shanghai() -> None:
    assert shanghai_today() in {
        datetime.now(ZoneInfo("Asia/Shanghai")).date(),
        datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=1),  # midnight race
    }
    tomorrow = shanghai_today() + timedelta(days=2)
    first17 = "310117" + tomorrow.strftime("%Y%m%d") + "001"
    assert codes_of(parse_person_id, first17 + check_char_gb11643(first17)) == ["id.birth_future"]


def test_id_type_labels() -> None:
    assert IdType("resident").label() == "居民身份证"
    assert dict(IdType.choices("en"))["passport"] == "Passport"


def test_result_masked() -> None:
    assert parse_person_id("11010519491231002X", today=TODAY).masked == "110***********002X"


# --- identity numbers: properties ----------------------------------------------------

birth_dates = st.dates(min_value=date(1890, 1, 1), max_value=TODAY)


@st.composite
def resident_ids(draw: st.DrawFn) -> tuple[str, date, str]:
    area = draw(st.sampled_from(county_codes()))
    born = draw(birth_dates)
    seq = draw(st.integers(0, 999))
    first17 = f"{area}{born:%Y%m%d}{seq:03d}"
    return first17 + check_char_gb11643(first17), born, "M" if seq % 2 else "F"


@PROPS
@given(resident_ids())
def test_generated_resident_ids_validate(case: tuple[str, date, str]) -> None:
    from stdnum.cn import ric  # an independent implementation of the same check

    number, born, sex = case
    assert ric.calc_check_digit(number) == number[-1]
    r = parse_person_id(number, today=TODAY)
    assert (r.number, r.birth_date, r.sex) == (number, born, sex)
    assert (r.area_code, r.warnings, r.legacy) == (number[:6], (), False)


@PROPS
@given(resident_ids(), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_resident_id_single_change_rejected(case: tuple, pos: int, char: str) -> None:
    number = case[0]
    if number[pos] == char:
        return
    changed = number[:pos] + char + number[pos + 1 :]
    with pytest.raises(ValidationError):
        parse_person_id(changed, today=TODAY)


@PROPS
@given(resident_ids(), st.integers(0, 16))
def test_resident_id_neighbour_swap_rejected(case: tuple, pos: int) -> None:
    number = case[0]
    if number[pos] == number[pos + 1]:
        return
    swapped = number[:pos] + number[pos + 1] + number[pos] + number[pos + 2 :]
    with pytest.raises(ValidationError):
        parse_person_id(swapped, today=TODAY)


@PROPS
@given(st.text(alphabet="0123456789X", max_size=40))
def test_mask_id_keeps_length_and_ends(n: str) -> None:
    m = mask_id(n)
    assert len(m) == len(n)
    if len(n) >= 12:
        assert m[:3] == n[:3] and m[-4:] == n[-4:] and set(m[3:-4]) == {"*"}
    else:  # short numbers show at most 3 characters
        assert sum(c != "*" for c in m) <= 3


def test_mask_examples() -> None:
    assert mask_id("11010519491231002X") == "110***********002X"
    assert mask_id("E12345678") == "E******78"
    assert mask_id("") == "" and mask_id("ABC") == "***"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138-1234-5678") == "138****5678"
    assert mask_phone("021-6789 1234") == "021*****1234"
    assert mask_phone("") == ""


@PROPS
@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_mask_phone_hides_the_middle(p: str) -> None:
    assert mask_phone(p) == p[:3] + "****" + p[-4:]
    assert parse_mobile(f"+86 {p[:3]}-{p[3:7]}-{p[7:]}") == p


# --- USCC ------------------------------------------------------------------------------


@pytest.mark.parametrize("_,row", cases("uscc", "valid"))
def test_uscc_valid(_: None, row: dict) -> None:
    assert parse_uscc(row["input"]) == row["code"]


@pytest.mark.parametrize("_,row", cases("uscc", "invalid"))
def test_uscc_invalid(_: None, row: dict) -> None:
    [err] = errors_of(lambda: parse_uscc(row["input"], field="employer_uscc"))
    assert (err.field, err.code) == ("employer_uscc", row["error"])
    if "expected_check" in row:
        _never_reveals(err, row["expected_check"])


@PROPS
@given(resident_ids(), st.integers(0, 16), st.sampled_from("0123456789"))
def test_no_check_message_names_the_expected_character(case: tuple, pos: int, char: str) -> None:
    """Whatever character is mistyped, the refusal names none (the vectors say it by example)."""
    number = case[0]
    changed = number[:pos] + char + number[pos + 1:]
    try:
        parse_person_id(changed, today=TODAY)
    except ValidationError as error:
        if error.codes == ["id.check"]:
            _never_reveals(error.errors[0], check_char_gb11643(changed[:17]))


@pytest.mark.parametrize("_,row", cases("landline", "valid"))
def test_landline_valid(_: None, row: dict) -> None:
    assert parse_landline(row["input"], default_area=VECTORS["landline"]["default_area"]) == row["number"]


@pytest.mark.parametrize("_,row", cases("landline", "invalid"))
def test_landline_invalid(_: None, row: dict) -> None:
    [err] = errors_of(lambda: parse_landline(row["input"], field="landline",
                                             default_area=VECTORS["landline"]["default_area"]))
    assert (err.field, err.code) == ("landline", row["error"]) and err.zh and err.en


@pytest.mark.parametrize("_,row", cases("region", "valid"))
def test_region_valid(_: None, row: dict) -> None:
    assert parse_region(row["input"]) == row["code"]


@pytest.mark.parametrize("_,row", cases("region", "invalid"))
def test_region_invalid(_: None, row: dict) -> None:
    [err] = errors_of(lambda: parse_region(row["input"]))
    assert (err.field, err.code) == ("hukou_region", row["error"])


def test_region_picker_offers_exactly_the_valid_codes() -> None:
    offered = [code for _province, counties in county_choices() for code, _name in counties]
    assert sorted(offered) == county_codes() and all(parse_region(c) == c for c in offered[::50])


def test_uscc_worked_example() -> None:
    assert uscc_check_char("91350100M000100Y4") == "3"
    with pytest.raises(ValueError):
        uscc_check_char("91350100M000100O4")


alphabet_chars = st.sampled_from(ALPHABET)
uscc_bodies = st.tuples(
    st.text(alphabet_chars, min_size=2, max_size=2),
    st.text(st.sampled_from("0123456789"), min_size=6, max_size=6),
    st.text(alphabet_chars, min_size=9, max_size=9),
).map("".join)


@PROPS
@given(uscc_bodies)
def test_uscc_round_trip(first17: str) -> None:
    from stdnum.cn import uscc  # independent implementation (it only knows digit-first codes)

    code = first17 + uscc_check_char(first17)
    assert parse_uscc(code.lower()) == code
    if first17[:2].isdigit():
        assert uscc.calc_check_digit(first17) == code[-1]


@PROPS
@given(uscc_bodies, st.integers(0, 17), alphabet_chars)
def test_uscc_single_change_rejected(first17: str, pos: int, char: str) -> None:
    code = first17 + uscc_check_char(first17)
    if code[pos] != char:
        with pytest.raises(ValidationError):
            parse_uscc(code[:pos] + char + code[pos + 1 :])


# --- mobile ----------------------------------------------------------------------------


@pytest.mark.parametrize("_,row", cases("mobile", "valid"))
def test_mobile_valid(_: None, row: dict) -> None:
    assert parse_mobile(row["input"]) == row["number"]


@pytest.mark.parametrize("_,row", cases("mobile", "invalid"))
def test_mobile_invalid(_: None, row: dict) -> None:
    [err] = errors_of(lambda: parse_mobile(row["input"]))
    assert (err.field, err.code) == ("phone", row["error"])


# --- house codes -----------------------------------------------------------------------


@pytest.mark.parametrize("_,row", cases("house_code", "valid"))
def test_house_code_valid(_: None, row: dict) -> None:
    assert parse_house_code(row["input"]) == row["code"]


@pytest.mark.parametrize("_,row", cases("house_code", "invalid"))
def test_house_code_invalid(_: None, row: dict) -> None:
    [err] = errors_of(lambda: parse_house_code(row["input"], field="plate"))
    assert (err.field, err.code) == ("plate", row["error"])


@pytest.mark.parametrize("_,row", cases("house_code", "make", key="body"))
def test_make_house_code(_: None, row: dict) -> None:
    assert make_house_code(row["body"]) == row["code"]


@pytest.mark.parametrize("_,row", cases("house_code", "temp", key="uuid"))
def test_make_temp_house_code(_: None, row: dict) -> None:
    u = uuid.UUID(row["uuid"])
    assert make_temp_house_code(u) == make_temp_house_code(row["uuid"]) == row["code"]
    assert make_temp_house_code(u.bytes) == row["code"]
    assert is_temp_house_code(parse_house_code(row["code"]))


def test_house_code_shape() -> None:
    assert VECTORS["house_code"]["alphabet"] == ALPHABET
    assert not set("IOSVZ") & set(ALPHABET) and len(ALPHABET) == 31
    assert not is_temp_house_code(make_house_code("T12345678"))  # plate codes are 10 long
    for bad in ("ABCDEFGH", "ABCDEFGHIJ", "abcdefgh1"):
        with pytest.raises(ValueError):
            make_house_code(bad)


@pytest.mark.parametrize("length", [10, 11])
def test_house_check_weights_prove_detection(length: int) -> None:
    """The check is linear, so detection only depends on weights and value differences.

    A substitution at i changes the sum by w_i*d, a swap at i<j by (w_i - w_j)*d, with d in
    1..30. Exhaustively: none of these is 0 mod 31, for every position (pair) and every d.
    """
    weights = [pow(3, length - 1 - i, 31) for i in range(length)]
    assert weights[-1] == 1  # the check character's own weight
    for w, d in itertools.product(weights, range(1, 31)):
        assert w * d % 31 != 0
    for (wi, wj), d in itertools.product(itertools.combinations(weights, 2), range(1, 31)):
        assert (wi - wj) * d % 31 != 0


def test_house_check_exhaustive_small_space() -> None:
    """Every 3-character code (2 body + check): all substitutions and swaps are caught."""
    for body in itertools.product(ALPHABET, repeat=2):
        code = "".join(body) + house_check_char("".join(body))
        for pos, char in itertools.product(range(3), ALPHABET):
            if char != code[pos]:
                bad = code[:pos] + char + code[pos + 1 :]
                assert house_check_char(bad[:-1]) != bad[-1], bad
        for pos in range(2):
            if code[pos] != code[pos + 1]:
                bad = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2 :]
                assert house_check_char(bad[:-1]) != bad[-1], bad


house_bodies = st.text(alphabet_chars, min_size=9, max_size=9)


@PROPS
@given(house_bodies)
def test_house_code_every_typo_and_swap_rejected(body: str) -> None:
    code = make_house_code(body)
    assert parse_house_code(code.lower()) == code
    for pos, char in itertools.product(range(len(code)), ALPHABET):
        if char != code[pos]:
            assert codes_of(parse_house_code, code[:pos] + char + code[pos + 1 :]) == [
                "house_code.check"
            ]
    for pos in range(len(code) - 1):
        if code[pos] != code[pos + 1]:
            swapped = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2 :]
            assert codes_of(parse_house_code, swapped) == ["house_code.check"]


@PROPS
@given(st.uuids())
def test_temp_house_codes(u: uuid.UUID) -> None:
    code = make_temp_house_code(u)
    assert len(code) == 11 and code[0] == "T" and is_temp_house_code(code)
    assert parse_house_code(code) == code == make_temp_house_code(str(u))


# --- area codes ------------------------------------------------------------------------


def test_area_codes_shanghai() -> None:
    sh = county_codes("31")
    assert sh == sorted(sh) and len(sh) == 16
    assert {"310117", "310151"} <= set(sh) and "310108" not in sh
    assert area_name("310117") == "松江区" and area_full_name("310117") == "上海市松江区"
    assert area_full_name("310151") == "上海市崇明区"
    # 闸北区 merged into 静安区 in 2015: retired but still on ID cards.
    assert is_known_area_code("310108") and not is_current_area_code("310108")
    assert area_name("310108") == "闸北区"
    assert not is_known_area_code("123456") and area_name("123456") is None


def test_county_codes_all() -> None:
    all_codes = county_codes()
    assert all_codes == county_codes() == sorted(all_codes)  # deterministic
    assert len(all_codes) > 2800
    assert all(len(c) == 6 and c.isdigit() and not c.endswith("00") for c in all_codes)
    assert all(is_current_area_code(c) for c in all_codes)
    assert "310117" in all_codes and county_codes("999") == []
    with pytest.raises(ValueError):
        county_codes("3a")


def test_area_data_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoPackage:
        @staticmethod
        def files(name: str) -> None:
            raise ModuleNotFoundError(name)

    monkeypatch.setattr(area_codes, "resources", NoPackage)
    area_codes._table.cache_clear()
    try:
        with pytest.raises(area_codes.AreaDataError, match="python-stdnum"):
            is_known_area_code("310117")
    finally:
        monkeypatch.undo()
        area_codes._table.cache_clear()
    assert is_known_area_code("310117")


# --- errors and purity -----------------------------------------------------------------


def test_collector_gathers_all_fields() -> None:
    c = Collector()
    assert c.check(parse_mobile, "13812345678") == "13812345678"
    assert c.check(parse_mobile, "123", field="phone") is None
    assert c.check(parse_uscc, "", field="uscc") is None
    with pytest.raises(ValidationError) as info:
        c.raise_if_any()
    assert info.value.codes == ["phone.format", "uscc.required"]
    assert info.value.errors[0].as_dict()["field"] == "phone"
    assert isinstance(info.value, ValueError)


def test_package_is_pure_python() -> None:
    code = (
        "import sys, webapp.validation as v; v.is_known_area_code('310117');"
        "bad = {'flask', 'sqlalchemy'} & set(sys.modules); assert not bad, bad"
    )
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


DAYS = VECTORS["days"]


def test_the_days_window_is_the_vectors() -> None:
    from webapp.validation import ranges

    assert tuple(d.isoformat() for d in ranges.DAYS) == (DAYS["first"], DAYS["last"])


@pytest.mark.parametrize(("day", "ok"), [(d, True) for d in DAYS["valid"]] + [(d, False) for d in DAYS["invalid"]])
def test_a_day_a_push_takes_is_inside_the_window(day: str, ok: bool) -> None:
    """A push's move-in on each vector day: taken inside the window; outside it `field.range`
    (a day Python's calendar cannot hold, past 9999, is not a date at all: `field.type`)."""
    from sync.validate import parse_fields
    from sync.wire import RECORD_TYPES

    _values, errors = parse_fields(RECORD_TYPES["residency"], {"start_date": day}, creating=False)
    codes = [e.code for e in errors]
    assert codes == ([] if ok else ["field.type" if len(day) > 10 else "field.range"])

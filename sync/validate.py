"""Turning a mutation's wire fields into column values, with the registry's own rules.

The rules are `webapp.validation`'s (the field app uses the same JSON test vectors); this
module only maps fields to them and to the column types. Errors come back as FieldErrors
so the app can show them at the field, in Chinese and English.
"""
from __future__ import annotations

import uuid
from functools import cache
from datetime import date, datetime
from collections.abc import Callable
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Float, Integer, String, Uuid

from sync.wire import RecordType
from webapp import validation
from webapp.base import plain_settings
from webapp.models import enums
from webapp.models.base import UTCDateTime
from webapp.validation import FieldError, ranges
from webapp.validation.contacts import contacts_problems
from webapp.validation.text import storable

ENUM_FIELDS: dict[tuple[str, str], type[enums.Labelled]] = {
    ("house", "use"): enums.HouseUse,
    ("house_flag", "kind"): enums.HouseFlagKind,
    ("house_code", "kind"): enums.HouseCodeKind,
    ("person", "category"): enums.PersonCategory,
    ("residency", "relation"): enums.Relation,
    ("visit", "outcome"): enums.VisitOutcome,
    ("unit", "kind"): enums.UnitKind,
    ("person", "phone_status"): enums.PhoneStatus,
    ("room", "kind"): enums.RoomKind,
    ("task", "status"): enums.TaskStatus,
    ("task", "result"): enums.TaskResult,
    ("review", "status"): enums.ReviewStatus,
}
REQUIRED_ON_CREATE: dict[str, tuple[str, ...]] = {
    "house": ("road", "number"),
    "house_code": ("code", "house_id"),
    "house_flag": ("house_id", "kind"),
    "unit": ("name",),
    "room": ("house_id", "name"),
    "person": ("name", "id_number"),
    "residency": ("person_id", "house_id", "start_date"),
    "visit": ("house_id", "visited_at", "outcome"),
}


def _err(field: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(field, code, zh, en)


def _coerce(column_type: Any, field: str, value: Any) -> Any:
    """Wire value → Python value for the column, or raise a FieldError."""
    if value is None:
        return None
    try:
        if isinstance(column_type, Uuid):
            return uuid.UUID(str(value))
        if isinstance(column_type, UTCDateTime):
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise ValueError("no zone")
            if not ranges.plausible_day(moment.date()):
                raise _Implausible()
            return moment
        if isinstance(column_type, Date):
            day = date.fromisoformat(str(value))
            if not ranges.plausible_day(day):
                raise _Implausible()
            return day
        if isinstance(column_type, Boolean):
            if not isinstance(value, bool):
                raise ValueError("not a boolean")
            return value
        if isinstance(column_type, (Integer, BigInteger)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
                raise ValueError("not an integer")
            # Beyond the column's range PostgreSQL fails the whole batch (a 500): reject the field.
            bits = 63 if isinstance(column_type, BigInteger) else 31
            if abs(int(value)) >= 2**bits:
                raise ValueError("out of range")
            return int(value)
        if isinstance(column_type, Float):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError("not a number")
            return float(value)
        if isinstance(column_type, JSON):
            return value
        if isinstance(column_type, String):
            if not isinstance(value, str):
                raise ValueError("not text")
            if not storable(value):  # a field error, not a 500 deep in a query
                raise _BadCharacters()
            text = value.strip()
            if column_type.length and len(text) > column_type.length:
                raise _Long(column_type.length)
            return text or None
    except _BadCharacters:
        raise _FieldProblem(_err(field, "field.characters", f"{field} 含有无法保存的字符",
                                 f"{field} contains characters that cannot be stored")) from None
    except _Implausible:
        raise _FieldProblem(_err(field, "field.range", *ranges.days_problem(field))) from None
    except _Long as long:
        raise _FieldProblem(_err(field, "field.too_long", f"{field} 超过 {long.limit} 个字符",
                                 f"{field} is longer than {long.limit} characters")) from None
    except (TypeError, ValueError):
        raise _FieldProblem(_err(field, "field.type", f"{field} 的值格式不对", f"{field} has a value of the wrong type")) from None
    return value


class _BadCharacters(Exception):
    pass


class _Implausible(Exception):
    """A day outside ranges.DAYS."""


class _Long(Exception):
    def __init__(self, limit: int) -> None:
        self.limit = limit


class _FieldProblem(Exception):
    def __init__(self, error: FieldError) -> None:
        self.error = error


def parse_fields(rtype: RecordType, fields: dict[str, Any], *, creating: bool) -> tuple[dict[str, Any], list[FieldError]]:
    """Validated column values for the given wire fields, and the errors found."""
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, raw in fields.items():
        if name not in rtype.writable:
            errors.append(_err(name, "field.not_writable", f"字段 {name} 不能由手机修改",
                               f"field {name} cannot be written from the app"))
            continue
        try:
            values[name] = _coerce(rtype.table.c[name].type, name, raw)
        except _FieldProblem as problem:
            errors.append(problem.error)
    for name in REQUIRED_ON_CREATE.get(rtype.name, ()):
        # What a record must have when made it must keep: a change that empties it (a name of
        # spaces, an ID number sent as null) left persons without a name or number.
        if (creating or name in values) and values.get(name) in (None, "") and not any(e.field == name for e in errors):
            errors.append(_err(name, "field.required", f"{name} 必填", f"{name} is required"))
    errors += _domain_rules(rtype.name, values)
    return values, errors


def _domain_rules(kind: str, values: dict[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    for field, (low, high) in _ranges_of(kind):
        value = values.get(field)
        if value is not None and not low <= value <= high:
            errors.append(_err(field, "field.range", f"{field} 应在 {low:g} 到 {high:g} 之间",
                               f"{field} must be from {low:g} to {high:g}"))
    for field, vocabulary in _vocabularies_of(kind):
        if values.get(field) is not None:
            try:
                vocabulary(values[field])
            except ValueError:
                errors.append(_err(field, "field.choice", f"{field} 的取值无效", f"{field} has an unknown value"))
    if kind == "person":
        errors += _person_rules(values)
    if kind == "unit" and "contacts" in values:
        errors += contacts_problems(values["contacts"])
    if kind == "residency" and values.get("end_date") and values.get("start_date"):
        if values["end_date"] < values["start_date"]:
            errors.append(_err("end_date", "residency.dates", "迁出日期早于入住日期",
                               "the move-out date is before the move-in date"))
    if kind == "task" and values.get("result") is not None and not errors:
        if values["result"] == enums.TaskResult.CHANGED and values.get("status", enums.TaskStatus.DONE) != enums.TaskStatus.DONE:
            errors.append(_err("result", "task.result", "只有已处理的任务才能登记为已变更",
                               "only a task closed as done can have changed the registry"))
    if kind == "house_code" and values.get("code"):
        try:
            values["code"] = validation.parse_house_code(values["code"], field="code")
        except validation.ValidationError as error:
            errors += error.errors
    return errors


@cache
def _ranges_of(kind: str) -> tuple[tuple[str, tuple[float, float]], ...]:
    """The ranges (webapp/validation/ranges.py) of this record type's fields, read once."""
    return tuple((field, bounds) for (rtype, field), bounds in ranges.RANGES.items() if rtype == kind)


@cache
def _vocabularies_of(kind: str) -> tuple[tuple[str, type[enums.Labelled]], ...]:
    return tuple((field, vocabulary) for (rtype, field), vocabulary in ENUM_FIELDS.items() if rtype == kind)


def _person_rules(values: dict[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    if values.get("id_number"):
        try:
            parsed = validation.parse_person_id(values["id_number"], values.get("id_type") or "resident")
            values["id_number"] = parsed.number
            # Sex and birth date follow from the number where it carries them.
            if parsed.sex:
                values["sex"] = parsed.sex
            if parsed.birth_date:
                values["birth_date"] = parsed.birth_date
        except validation.ValidationError as error:
            errors += error.errors
    parsers: dict[str, Callable[[str], str]] = {"phone": validation.parse_mobile, "hukou_region": validation.parse_region,
               "landline": lambda v: validation.parse_landline(v, default_area=_landline_area())}
    for name, parse in parsers.items():
        if values.get(name):
            try:
                values[name] = parse(values[name])
            except validation.ValidationError as error:
                errors += error.errors
    issued, expiry = values.get("permit_issued"), values.get("permit_expiry")
    if issued and expiry and issued >= expiry:
        errors.append(_err("permit_expiry", "permit.dates", "居住证有效期应晚于签发日期",
                           "the permit's expiry must be after its issue date"))
    return errors


def _landline_area() -> str:
    """LANDLINE_AREA_CODE (the phones send numbers with their area code already)."""
    return str(plain_settings.setting("LANDLINE_AREA_CODE"))


def linked_problems(kind: str, rid: uuid.UUID, values: dict[str, Any], state: Any) -> list[dict[str, Any]]:
    """Checks across records, on the batch's rows (sync.state.State): a task closes with a
    visit made at its own house (the visit may come earlier in the same batch); a stay's room
    is a room of its house (the group-renting rule counts persons per room)."""
    if kind == "residency":
        return _room_problems(rid, values, state)
    if kind != "task" or values.get("closed_visit_id") is None:
        return []
    task, visit = state.get("task", rid), state.get("visit", values["closed_visit_id"])
    if visit is None:
        return [_problem("closed_visit_id", "ref.unknown", "closed_visit_id 指向不存在的走访记录",
                         "closed_visit_id points to a visit that does not exist")]
    if task is not None and state.alias.get(visit["house_id"], visit["house_id"]) != task["house_id"]:
        return [_problem("closed_visit_id", "task.visit_house", "关闭任务的走访不在该任务的房屋",
                         "the visit that closes the task was at another house")]
    return []


def _room_problems(rid: uuid.UUID, values: dict[str, Any], state: Any) -> list[dict[str, Any]]:
    room = state.get("room", values["room_id"]) if values.get("room_id") is not None else None
    if room is None:
        return []  # no room named (a missing one is ref.unknown: sync/apply.py)
    house = values.get("house_id") or (state.get("residency", rid) or {}).get("house_id")
    if state.alias.get(room["house_id"], room["house_id"]) != state.alias.get(house, house):
        return [ROOM_ELSEWHERE.as_dict()]
    return []


# A stay whose room is a room of another house: the push (above) and a conflict's resolution.
ROOM_ELSEWHERE = FieldError("room_id", "residency.room_house", "所选房间不在这处房屋", "the room is in another house")


def _problem(field: str, code: str, zh: str, en: str) -> dict[str, Any]:
    return {"field": field, "code": code, "zh": zh, "en": en}

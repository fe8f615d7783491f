"""Jinja filters and globals: local times, labels in the user's language, masking."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask
from flask_babel import get_locale

from webapp.models import enums
from webapp.base.timeutil import to_local

ENUMS = {
    "role": enums.Role, "use": enums.HouseUse, "flag": enums.HouseFlagKind,
    "code_kind": enums.HouseCodeKind, "event": enums.HouseEventKind,
    "category": enums.PersonCategory, "sex": enums.Sex, "relation": enums.Relation,
    "source": enums.Source, "outcome": enums.VisitOutcome, "unit_kind": enums.UnitKind,
    "task_kind": enums.TaskKind, "task_status": enums.TaskStatus, "task_source": enums.TaskSource,
    "review_kind": enums.ReviewKind, "review_status": enums.ReviewStatus,
    "room_kind": enums.RoomKind, "phone_status": enums.PhoneStatus, "basis": enums.ResidenceBasis,
    "residence_result": enums.ResidenceCheckResult,
}


def _id_types() -> Any:
    from webapp.validation import IdType

    return IdType


ENUMS["id_type"] = _id_types()


def lang() -> str:
    return "zh" if str(get_locale() or "zh_CN").startswith("zh") else "en"


def label(value: str | None, vocabulary: str) -> str:
    if value is None:
        return ""
    try:
        return ENUMS[vocabulary](value).label(lang())
    except ValueError:
        return value


def region(code: str | None) -> str:
    """A GB/T 2260 code as its full name ("上海市松江区"), the code itself if unknown."""
    from webapp.validation import area_full_name

    return "" if not code else area_full_name(code) or code


def local_dt(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "" if value is None else to_local(value).strftime(fmt)


def local_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value).date()
    return value.isoformat()


def bilingual(error: Any) -> str:
    """A FieldError's message in the user's language."""
    return error.zh if lang() == "zh" else error.en


def shown(record: str, field: str, value: Any) -> str:
    """A personal field as the current user's role may see it (webapp/registry/privacy.py):
    in clear, masked, or empty."""
    from flask_login import current_user

    from webapp.registry import privacy

    role = current_user.role if current_user.is_authenticated else ""
    seen = privacy.seen(role, record, field, value)
    if seen is None:
        return ""
    return seen.isoformat() if isinstance(seen, (date, datetime)) else str(seen)


def in_clear(record: str, field: str) -> bool:
    """Whether the current user's role sees this personal field whole."""
    from flask_login import current_user

    from webapp.registry import privacy

    return current_user.is_authenticated and privacy.clear(current_user.role, record, field)


def weight_words(dimensions: Any, weights: dict[str, float]) -> str:
    """The grade weights in words ("完整性 25、准确性 25…"), not the setting's raw text."""
    parts = [f"{label} {weights.get(key, 0):g}" for key, label in dimensions]
    return "、".join(parts) if lang() == "zh" else ", ".join(parts)


def register(app: Flask) -> None:
    from webapp.validation import mask_id, mask_phone

    app.jinja_env.filters.update(label=label, local_dt=local_dt, local_date=local_date, bilingual=bilingual,
                                 region=region)
    app.jinja_env.globals.update(lang=lang, ENUMS=ENUMS, mask_id=mask_id, mask_phone=mask_phone, shown=shown,
                                 in_clear=in_clear, weight_words=weight_words)

    @app.context_processor
    def _scope() -> dict[str, Any]:
        from flask_login import current_user

        from webapp.access import current_scope

        return {"scope": current_scope() if current_user.is_authenticated else None}

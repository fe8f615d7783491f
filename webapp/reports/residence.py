"""The legal-stable-residence section of the house page (console), from the rules."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.access import current_scope
from webapp.extensions import db
from webapp.models import House, Person, ResidenceCheck
from webapp.registry import residence_decisions
from webapp.models.enums import ResidenceCheckResult
from webapp.registry.rules import Context, residence_verdict
from webapp.reports.common import rule_settings
from webapp.reports.forms import ResidenceCheckForm
from webapp.residence.forms import DecisionForm
from webapp.residence.views import applicant_choices
from webapp.templating import lang
from webapp.base.timeutil import local_today


def residence_context(house: House) -> dict[str, Any]:
    """What `reports/_residence.html` needs: the verdict with its reasons, the checks, the form."""
    checks = db.session.scalars(select(ResidenceCheck).where(ResidenceCheck.house_id == house.id)
                                .order_by(ResidenceCheck.checked_at.desc()).limit(20)
                                .options(selectinload(ResidenceCheck.checked_by))).all()

    def label(value: str) -> str:
        try:
            return ResidenceCheckResult(value).label(lang())
        except ValueError:
            return value

    decided = residence_decisions.decisions(db.session, house.id)
    names = dict(db.session.execute(select(Person.id, Person.name)
                                    .where(Person.id.in_({d.person_id for d in decided}))).all())
    open_house = house.deleted_at is None
    return {"residence": residence_verdict(Context(db.session, rule_settings(), local_today()), house.id),
            "residence_checks": [c for c in checks if c.person_id is None], "residence_label": label,
            "residence_decisions": decided, "residence_names": names,
            "decision_form": DecisionForm(applicants=applicant_choices(house))
            if current_scope().may("residence_decision") and open_house else None,
            "residence_form": ResidenceCheckForm() if current_scope().may("edit") and open_house else None}

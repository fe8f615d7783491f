"""Registry rules as data (不重复、不遗漏、准确无误): each rule has a code, a title in Chinese
and English, the settings it reads, and a set-based evaluation that returns flags saying
why, with the numbers. Pure SQLAlchemy: no Flask.

    flags = evaluate(session, today=local_today())                  # every rule, whole area
    flags = evaluate(session, cell_ids=scope.cell_ids, codes=("permits",))
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date

from sqlalchemy.orm import Session

# Importing a module registers its rules; this order is the order reports list them in.
from webapp.registry.rules import housing  # noqa: F401,I001
from webapp.registry.rules import residence  # noqa: F401
from webapp.registry.rules import persons  # noqa: F401
from webapp.registry.rules import duplicates  # noqa: F401
from webapp.registry.rules import accuracy  # noqa: F401
from webapp.registry import address_keys
from webapp.registry.rules.base import RULES, Context, Flag, Rule
from webapp.registry.rules.residence import ResidenceVerdict, residence_verdict
from webapp.registry.rules.settings import RuleSettings, default_settings
from webapp.registry.rules.tasks import Raised, conflict_kinds, raise_tasks

__all__ = [
    "RULES", "Context", "Flag", "Raised", "ResidenceVerdict", "Rule", "RuleSettings", "conflict_kinds",
    "default_settings", "evaluate", "raise_tasks", "residence_verdict",
]


def evaluate(session: Session, *, today: date, settings: RuleSettings | None = None,
             cell_ids: frozenset[uuid.UUID] | None = None, house_ids: frozenset[uuid.UUID] | None = None,
             codes: Iterable[str] | None = None, errors_only: bool = False, terms_counted: bool = False) -> list[Flag]:
    """The flags of the chosen rules (default: all), in rule order; `terms_counted`: leave out
    the rules' resident terms, which the caller counts itself (see `Rule.resident_terms`)."""
    address_keys.stamp(session)  # rows this transaction wrote are compared by their keys too
    ctx = Context(session, settings or default_settings(), today, cell_ids, house_ids, errors_only, terms_counted)
    chosen = list(RULES) if codes is None else list(codes)
    out: list[Flag] = []
    for code in chosen:
        r = RULES[code]  # KeyError: an unknown code is a programming error
        if errors_only and not r.finds_errors:
            continue
        out.extend(f for f in r.evaluate(ctx) if f.error or not errors_only)
    return out

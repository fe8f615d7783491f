"""The committee's 合法稳定住所 decision for one applicant (seed art. 5(2)): a certificate (证明)
on a stated basis, or a recorded refusal with its reason (不予出具). Plain SQLAlchemy.

A certificate is given only where nothing on record refuses the house (the rules' verdict:
webapp/registry/rules/residence.py); its number and check code are printed on it, and the
public plate page of that very house verifies them (`verify`), showing no personal data. The
check code is random, so certificates cannot be enumerated from their numbers.
"""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import House, Person, ResidenceCheck, Residency
from webapp.models.enums import ResidenceBasis, ResidenceCheckResult
from webapp.registry.rules import Context, RuleSettings, residence_verdict
from webapp.validation import ALPHABET
from webapp.base.timeutil import local_day_bounds_utc

CHECK_CODE_LEN = 6


@dataclass(frozen=True)
class DecisionError(Exception):
    zh: str
    en: str


def applicants(session: Session, house_id: object) -> list[Person]:
    """Who may apply at this house: the live persons living there now."""
    return list(session.scalars(
        select(Person).join(Residency, Residency.person_id == Person.id)
        .where(Residency.house_id == house_id, Residency.end_date.is_(None), Residency.deleted_at.is_(None),
               Person.deleted_at.is_(None))
        .order_by(Person.name)))


def decide(session: Session, house: House, person: Person, *, result: str, basis: str | None, note: str | None,
           by_user_id: int, today: date, settings: RuleSettings) -> ResidenceCheck:
    """Record the decision (flushed, not committed); DecisionError when it may not be made."""
    # One decision for a person at a time: the person's row is locked (FOR UPDATE; SQLite runs
    # one writer at a time anyway) before anything is checked, so of two forms posted at the
    # same moment the second waits for the first to commit and then finds its certificate.
    # Checked unlocked, both found none and two certificates were issued on PostgreSQL.
    session.execute(select(Person.id).where(Person.id == person.id).with_for_update())
    if person not in applicants(session, house.id):
        raise DecisionError("此人现不住在该房屋", "This person does not live in this house now")
    verdict = residence_verdict(Context(session, settings, today), house.id)
    note = (note or "").strip() or None
    if result == ResidenceCheckResult.STABLE:
        if not verdict.ok:
            raise DecisionError("该房屋有不予出具证明的情形（见上），只能记录不予出具",
                                "Something on record refuses this house (see above): only a refusal can be recorded")
        if basis not in {b.value for b in ResidenceBasis}:
            raise DecisionError("请选择认定依据", "Choose the basis of the decision")
    elif result == ResidenceCheckResult.REFUSED:
        if not note:
            raise DecisionError("不予出具须写明理由", "A refusal needs its reason")
        basis = None
    else:
        raise DecisionError("请选择认定结果", "Choose the decision")
    issued = _issued_today(session, house, person, today) if result == ResidenceCheckResult.STABLE else None
    if issued is not None:
        # The same form sent twice (a double-click, a reload) issued a second certificate,
        # both genuine at the plate. One a day; the one issued is named.
        raise DecisionError(f"今天已为此人出具证明（编号 {issued}），不再重复出具",
                            f"A certificate was issued to this person here today already (No. {issued})")
    check = ResidenceCheck(house_id=house.id, person_id=person.id, result=result, basis=basis, note=note,
                           reasons=[f"{zh} / {en}" for zh, en in verdict.reasons], checked_by_id=by_user_id)
    if result == ResidenceCheckResult.STABLE:
        check.certificate_no = _new_number(session, today)
        check.check_code = "".join(secrets.choice(ALPHABET) for _ in range(CHECK_CODE_LEN))
    session.add(check)
    session.flush()
    return check


def _issued_today(session: Session, house: House, person: Person, today: date) -> str | None:
    """The number of a certificate issued to this person at this house on this local day."""
    start, end = local_day_bounds_utc(today)
    return session.scalar(select(ResidenceCheck.certificate_no).where(
        ResidenceCheck.house_id == house.id, ResidenceCheck.person_id == person.id,
        ResidenceCheck.result == ResidenceCheckResult.STABLE, ResidenceCheck.checked_at >= start,
        ResidenceCheck.checked_at < end).limit(1))


def _new_number(session: Session, today: date) -> str:
    """The year and eight random digits, unique (drawn again on the rare repeat)."""
    while True:
        number = f"{today.year}{secrets.randbelow(10 ** 8):08d}"
        if session.scalar(select(ResidenceCheck.id).where(ResidenceCheck.certificate_no == number)) is None:
            return number


def decisions(session: Session, house_id: object) -> list[ResidenceCheck]:
    """The applicants' decisions at this house, newest first."""
    return list(session.scalars(
        select(ResidenceCheck).where(ResidenceCheck.house_id == house_id, ResidenceCheck.person_id.is_not(None))
        .order_by(ResidenceCheck.checked_at.desc())))


def verify(session: Session, house: House, number: str, code: str) -> ResidenceCheck | None:
    """The certificate with this number and check code issued for this house, else None."""
    number = "".join((number or "").split())
    code = "".join((code or "").split()).upper()
    if not number or not code or len(number) > 20:
        return None
    found = session.scalar(select(ResidenceCheck).where(
        ResidenceCheck.certificate_no == number, ResidenceCheck.house_id == house.id,
        ResidenceCheck.result == ResidenceCheckResult.STABLE))
    if found is None or not hmac.compare_digest((found.check_code or "").encode(), code.encode()):
        return None
    return found

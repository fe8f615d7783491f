"""What the registry already holds, loaded once per import: one query per table, never one per row."""
from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import House, HouseCode, Person, Residency, Unit
from webapp.models.enums import Source
from webapp.registry.extract.cells import _stored_id_key
from webapp.registry.extract.progress import _Progress
from webapp.registry.extract.report import ImportReport, _ferr
from webapp.registry.extract.rows import _Parsed
from webapp.validation import FieldError


class _Existing:
    """The state of one import, starting with what exists (the files' rows come later)."""

    def __init__(self, session: Session, by_user_id: int | None, report: ImportReport,
                 progress: _Progress) -> None:
        self.session, self.by, self.report, self.progress = session, by_user_id, report, progress
        self.parsed: dict[str, _Parsed] = {}
        self.houses: dict[str, House] = {}  # live external code → live house
        self.dead_codes: dict[str, FieldError] = {}  # codes that cannot name an extract house
        self.persons: dict[str, Person] = {}  # normalised ID number → live person
        self.residencies: dict[uuid.UUID, list[Residency]] = defaultdict(list)  # by person id
        self.imported_person_ids: set[uuid.UUID] = set()
        self.units: dict[str, Unit] = {}  # live unit by its external code

    # -- what exists: one query per table, never one per row --

    def load(self, shapes: Iterable[str]) -> None:
        wanted = set(shapes)
        self._load_houses()
        if wanted & {"units", "persons"}:
            # Every code is set (the WHERE), which the column cannot say.
            self.units = {cast(str, u.external_code): u for u in self.session.scalars(
                select(Unit).where(Unit.deleted_at.is_(None), Unit.external_code.is_not(None)))}
        if wanted & {"persons", "residencies"}:
            # Records held for the centre (claims_id_of) are not the registry's holder of a number.
            stmt = select(Person).where(Person.deleted_at.is_(None), Person.id_number.is_not(None),
                                        Person.claims_id_of.is_(None))
            self.persons = {_stored_id_key(p.id_number or ""): p for p in self.session.scalars(stmt)}
        if "residencies" in wanted:
            for r in self.session.scalars(select(Residency).where(Residency.deleted_at.is_(None))):
                self.residencies[r.person_id].append(r)
        if "persons" in wanted:
            # Persons carry no source: "from an earlier import" means "has an imported residency".
            self.imported_person_ids = set(self.session.scalars(
                select(Residency.person_id).where(Residency.source == Source.IMPORT.value,
                                                  Residency.deleted_at.is_(None)).distinct()))

    def _load_houses(self) -> None:
        rows = self.session.execute(select(HouseCode.code, HouseCode.kind, HouseCode.deleted_at, House)
                                    .join(House, House.id == HouseCode.house_id))
        for code, kind, code_deleted, house in rows:
            if kind != "external":
                self.dead_codes[code] = _ferr(
                    "external_code", "extract.code_taken", f"编码{code}已被本系统的门牌码或临时码占用",
                    f"Code {code} is already one of our plate or temporary codes")
            elif code_deleted is None and house.deleted_at is None:
                self.houses[code] = house
            else:
                self.dead_codes[code] = _ferr(
                    "external_code", "extract.house_deleted", f"外部编码{code}对应的房屋已删除，请先核实",
                    f"External code {code} belongs to a deleted house; review it first")

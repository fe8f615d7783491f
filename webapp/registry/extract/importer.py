"""Importing an extract: check every row, then apply all of it in a savepoint, or nothing."""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from webapp.base.ids import new_id
from webapp.models import House, HouseCode, Person, Unit
from webapp.registry.changes import apply_changes
from webapp.registry.extract.check import _Checks
from webapp.registry.extract.progress import ProgressFn, _Progress
from webapp.registry.extract.read import ExtractSource
from webapp.registry.extract.report import ImportReport, Item, ShapeReport
from webapp.registry.extract.residencies import _Residencies
from webapp.registry.extract.rows import _Parsed
from webapp.registry.extract.spec import _NOT_NULL, HOUSES, ORDER, PERSONS, SHAPES, UNITS
from webapp.validation import IdResult


def import_extract(
    session: Session,
    files: Mapping[str, ExtractSource],
    *,
    by_user_id: int | None,
    fmt: str | None = None,
    dry_run: bool = False,
    progress: ProgressFn | None = None,
) -> ImportReport:
    """Import an extract: any subset of "houses", "units", "persons", "residencies" → file.

    Nothing is written unless every row is good. A good import is flushed into the
    session's transaction (the caller commits, together with its audit record); a dry run
    does the same work in a savepoint and rolls it back, so its report is exact.
    """
    unknown = set(files) - set(SHAPES)
    if unknown:
        raise ValueError(f"unknown extract shapes: {sorted(unknown)}")
    report = ImportReport(dry_run=dry_run)
    work = _Importer(session, by_user_id, report, _Progress(progress))
    with session.no_autoflush:
        work.load(files)
        for key in ORDER:
            if key in files:
                work.parse(SHAPES[key], files[key], fmt)
    if not report.ok:
        return report
    savepoint = session.begin_nested()
    try:
        with session.no_autoflush:
            work.apply()
        session.flush()
    except BaseException:
        savepoint.rollback()
        raise
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
    return report


class _Importer(_Checks):
    """One import: what exists, what the files say, and the report being built."""

    # -- writing (only reached when every row is good) --

    def apply(self) -> None:
        if "houses" in self.parsed:
            self._apply_houses(self.parsed["houses"], self.report.shapes["houses"])
        if "units" in self.parsed:
            self._apply_units(self.parsed["units"], self.report.shapes["units"])
            # Written now: persons name them as employer, and that key (use_alter) gives the
            # flush no order between the two tables.
            self.session.flush()
        if "persons" in self.parsed:
            self._apply_persons(self.parsed["persons"], self.report.shapes["persons"])
        if "residencies" in self.parsed:
            _Residencies(self).apply(self.parsed["residencies"], self.report.shapes["residencies"])

    def _apply_houses(self, parsed: _Parsed, out: ShapeReport) -> None:
        fields = [c.key for c in HOUSES.columns if c.key in parsed.present and c.key != "external_code"]
        before = dict(self.houses)
        seen: set[uuid.UUID] = set()
        for n, (code, row) in enumerate(parsed.rows.items(), start=1):
            changes = _changes(row.values, fields)
            house = self.houses.get(code)
            if house is None:
                house = self._new_house(code, changes)
                out.new.append(Item(code, house.address, row.line, record_id=house.id))
            elif diff := apply_changes(house, changes, self.by):
                out.changed.append(Item(code, house.address, row.line, diff, record_id=house.id))
            else:
                out.unchanged += 1
            seen.add(house.id)
            self.progress.tick("apply:houses", n, len(parsed.rows))
        gone = {h.id: Item(code, h.address, record_id=h.id) for code, h in before.items() if h.id not in seen}
        out.gone = list(gone.values())  # a house with two external codes is listed once
        self.progress.end("apply:houses", len(parsed.rows))

    def _new_house(self, code: str, changes: dict[str, Any]) -> House:
        # No cell here: placing houses in cells by geometry is the geo module's job.
        house = House(id=new_id(), cell_id=None, changed_by_id=self.by, **changes)
        self.session.add(house)
        self.session.add(HouseCode(id=new_id(), code=code, kind="external", house_id=house.id,
                                   changed_by_id=self.by))
        self.houses[code] = house
        return house

    def _apply_units(self, parsed: _Parsed, out: ShapeReport) -> None:
        fields = [c.key for c in UNITS.columns if c.key in parsed.present and c.key not in ("external_code",
                                                                                            "house_external_code")]
        before = dict(self.units)
        for n, (code, row) in enumerate(parsed.rows.items(), start=1):
            changes = _changes(row.values, fields)
            if "house_external_code" in parsed.present:
                house = self.houses.get(row.values.get("house_external_code") or "")
                changes["house_id"] = house.id if house else None
            unit = self.units.get(code)
            if unit is None:
                unit = Unit(id=new_id(), external_code=code, changed_by_id=self.by, contacts=[])
                apply_changes(unit, changes, self.by)
                self.session.add(unit)
                self.units[code] = unit
                out.new.append(Item(code, unit.name or "", row.line, record_id=unit.id))
            elif diff := apply_changes(unit, changes, self.by):
                out.changed.append(Item(code, unit.name or "", row.line, diff, record_id=unit.id))
            else:
                out.unchanged += 1
            self.progress.tick("apply:units", n, len(parsed.rows))
        out.gone = [Item(code, u.name or "", record_id=u.id) for code, u in before.items() if code not in parsed.rows]
        self.progress.end("apply:units", len(parsed.rows))

    def _apply_persons(self, parsed: _Parsed, out: ShapeReport) -> None:
        fields = [c.key for c in PERSONS.columns
                  if c.key in parsed.present and c.key not in ("id_number", "employer_unit_code")]
        before = dict(self.persons)
        for n, (key, row) in enumerate(parsed.rows.items(), start=1):
            changes = _changes(row.values, fields) | _from_id(parsed.id_results[key])
            if "employer_unit_code" in parsed.present:
                employer = self.units.get(row.values.get("employer_unit_code") or "")
                changes["employer_unit_id"] = employer.id if employer else None
            person = self.persons.get(key)
            if person is None:
                person = Person(id=new_id())
                apply_changes(person, {"id_number": key, **changes}, self.by)
                self.session.add(person)
                self.persons[key] = person
                out.new.append(Item(key, person.name or "", row.line, record_id=person.id, id_number=key))
            elif diff := apply_changes(person, changes | {"id_number": key}, self.by):
                out.changed.append(Item(key, person.name or "", row.line, diff, record_id=person.id,
                                        id_number=key))
            else:
                out.unchanged += 1
            self.progress.tick("apply:persons", n, len(parsed.rows))
        out.gone = [Item(key, p.name or "", record_id=p.id, id_number=key) for key, p in before.items()
                    if key not in parsed.rows and p.id in self.imported_person_ids]
        self.progress.end("apply:persons", len(parsed.rows))


def _changes(values: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """The extract's values for the columns it has; a blank NOT NULL column keeps what is there."""
    return {k: values.get(k) for k in fields if not (values.get(k) is None and k in _NOT_NULL)}


def _from_id(result: IdResult) -> dict[str, Any]:
    """What the ID number itself says (birth date, sex) wins over what was typed before."""
    said = {"birth_date": result.birth_date, "sex": result.sex}
    return {k: v for k, v in said.items() if v is not None}

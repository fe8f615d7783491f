"""Applying residency rows: the same stay is updated, a move ends the old one, the rest are added."""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from webapp.base.ids import new_id
from webapp.models import House, Residency
from webapp.models.enums import Relation, Source
from webapp.registry.changes import apply_changes
from webapp.registry.extract.existing import _Existing
from webapp.registry.extract.report import Item, RowIssue, ShapeReport, _ferr
from webapp.registry.extract.rows import _Parsed, _Row


class _Residencies:
    """Applies residency rows: match, close, move (end the old one first), add."""

    def __init__(self, work: _Existing) -> None:
        # What the import has loaded and is building: the importer is one, but this needs
        # only what it inherits from `_Existing` (importing the importer would be a cycle).
        self.work = work
        self.code_of = {h.id: code for code, h in work.houses.items()}
        self.person_of = {p.id: (key, p) for key, p in work.persons.items()}
        self.touched: set[uuid.UUID] = set()
        self.exact: dict[int, Residency] = {}  # line → the residency with the row's house and start

    def apply(self, parsed: _Parsed, out: ShapeReport) -> None:
        existing = [r for rs in self.work.residencies.values() for r in rs]
        # Closing rows first, so that a move listed as "old closed + new open" needs no guess.
        rows = sorted(parsed.rows.values(), key=lambda r: (r.values.get("end_date") is None, r.line))
        self._reserve_exact(rows)
        fresh: list[Residency] = []
        for n, row in enumerate(rows, start=1):
            self._apply_row(row, parsed.present, out, fresh)
            self.work.progress.tick("apply:residencies", n, len(rows))
        # The partial unique index allows one open residency per person: end the old ones first.
        self.work.session.flush()
        self.work.session.add_all(fresh)
        out.gone = [self._item(r) for r in existing if r.source == Source.IMPORT.value
                    and r.end_date is None and r.id not in self.touched]
        self.work.progress.end("apply:residencies", len(rows))

    def _reserve_exact(self, rows: list[_Row]) -> None:
        """Exact matches first, so that another row's looser match cannot take them."""
        for row in rows:
            v = row.values
            mine = self.work.residencies[self.work.persons[v["id_number"]].id]
            house_id = self.work.houses[v["house_external_code"]].id
            same = (r for r in mine if r.house_id == house_id and r.start_date == v["start_date"])
            if (found := next(same, None)) is not None:
                self.exact[row.line] = found

    def _match(self, row: _Row, mine: list[Residency], house_id: uuid.UUID) -> Residency | None:
        """The same stay: same house and start, else the open stay in that house (police dates drift)."""
        if row.line in self.exact:
            return self.exact[row.line]
        taken = {r.id for r in self.exact.values()}
        open_here = (r for r in mine if r.house_id == house_id and r.end_date is None and r.id not in taken)
        return next(open_here, None)

    def _apply_row(self, row: _Row, present: set[str], out: ShapeReport, fresh: list[Residency]) -> None:
        v = row.values
        person = self.work.persons[v["id_number"]]
        house = self.work.houses[v["house_external_code"]]
        mine = self.work.residencies[person.id]
        match = self._match(row, mine, house.id)
        if match is not None:
            self._update(match, row, present, out)
            return
        if v.get("end_date") is None:
            self._end_elsewhere(mine, v["start_date"], out)
        new = Residency(id=new_id(), person_id=person.id, house_id=house.id, start_date=v["start_date"],
                        end_date=v.get("end_date"), relation=v.get("relation") or Relation.TENANT.value,
                        source=Source.IMPORT.value, changed_by_id=self.work.by)
        self.code_of.setdefault(house.id, v["house_external_code"])
        self.person_of.setdefault(person.id, (v["id_number"], person))
        mine.append(new)
        fresh.append(new)
        self.touched.add(new.id)
        out.new.append(self._item(new, row.line, house))

    def _update(self, match: Residency, row: _Row, present: set[str], out: ShapeReport) -> None:
        v = row.values
        changes: dict[str, Any] = {"start_date": v["start_date"]}
        if v.get("relation"):
            changes["relation"] = v["relation"]
        if v.get("end_date") is not None:
            changes["end_date"] = v["end_date"]
        elif match.end_date is not None and "end_date" in present:
            # Reopening would override a coordinator's "moved out": keep it, ask for review.
            self.work.report.warnings.append(RowIssue("residencies", row.line, (_ferr(
                "end_date", "extract.kept_closed", f"系统中该居住记录已于{match.end_date}迁出，未重新打开，请核实",
                f"This residency ended on {match.end_date} in the registry; not reopened, please review"),)))
        self.touched.add(match.id)
        if diff := apply_changes(match, changes, self.work.by):
            out.changed.append(self._item(match, row.line, diff=diff))
        else:
            out.unchanged += 1

    def _end_elsewhere(self, mine: list[Residency], start: date, out: ShapeReport) -> None:
        """Moving house is normal: the old open residency ends the day before the new one."""
        for old in mine:
            if old.end_date is None and old.deleted_at is None:
                end = max(old.start_date, start - timedelta(days=1))
                diff = apply_changes(old, {"end_date": end, "end_reason": "迁居（派出所数据导入）"}, self.work.by)
                self.touched.add(old.id)
                out.changed.append(self._item(old, diff=diff, note="moved"))

    def _item(self, r: Residency, line: int | None = None, house: House | None = None,
              diff: dict[str, tuple[Any, Any]] | None = None, note: str | None = None) -> Item:
        id_number, person = self.person_of.get(r.person_id, (str(r.person_id), None))
        code = self.code_of.get(r.house_id, "")
        house = house or (self.work.houses.get(code) if code else None)
        label = f"{person.name if person else ''} · {house.address if house else r.house_id}"
        return Item(f"{id_number}/{code}/{r.start_date.isoformat()}", label, line, diff or {}, note,
                    r.id, id_number if person else None)

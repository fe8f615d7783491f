"""Exporting a shape in the import's own columns, so that an export re-imports unchanged."""
from __future__ import annotations

import codecs
import csv
import io
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import IO, Any, Literal, cast

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from webapp.models import House, HouseCode, Person, Residency, Unit
from webapp.registry.extract.cells import _zh_labels
from webapp.registry.extract.spec import (
    COMMENT,
    HOUSES,
    NOTE_SHEET,
    PERSONS,
    SHAPES,
    Column,
    Shape,
)
from webapp.registry import privacy, spreadsheet

HouseFilter = Iterable[uuid.UUID | str] | Select[Any] | None


def export_extract(
    session: Session,
    shape: str,
    fmt: Literal["csv", "xlsx"],
    out: IO[bytes],
    *,
    header_note: str,
    house_ids: HouseFilter = None,
    role: str | None = None,
) -> int:
    """Write one shape in the import's columns; return the number of data rows.

    `house_ids` limits the export to visible houses (a list or a select of house ids);
    persons and residencies follow through residencies in those houses. The note goes on a
    leading "#" line (and, in XLSX, into the document properties and a "说明" sheet).
    Personal fields are written as `role` may see them (webapp/registry/privacy.py); no
    role (the centre's command line) writes them whole.
    """
    if shape not in SHAPES:
        raise ValueError(f"unknown extract shape: {shape!r}")
    spec = SHAPES[shape]
    rows = _EXPORTERS[spec.key](session, _house_filter(house_ids), role)
    if fmt == "csv":
        return _write_csv(spec, rows, out, header_note)
    if fmt == "xlsx":
        return _write_xlsx(spec, rows, out, header_note)
    raise ValueError(f"unknown export format: {fmt!r}")


def _house_filter(house_ids: HouseFilter) -> Select[Any] | list[uuid.UUID] | None:
    if house_ids is None or isinstance(house_ids, Select):
        return house_ids
    return [h if isinstance(h, uuid.UUID) else uuid.UUID(str(h)) for h in house_ids]


def _external_codes(session: Session) -> dict[uuid.UUID, str]:
    """house id → its external code; dict() keeps the last, so current codes sort last."""
    stmt = (select(HouseCode.house_id, HouseCode.code)
            .where(HouseCode.kind == "external", HouseCode.deleted_at.is_(None))
            .order_by(HouseCode.retired_at.is_not(None).desc(), HouseCode.code.desc()))
    return {house_id: code for house_id, code in session.execute(stmt)}


def _export_houses(session: Session, only: Any, role: str | None) -> Iterator[dict[str, Any]]:
    codes = _external_codes(session)
    stmt = select(House).where(House.deleted_at.is_(None)).order_by(
        House.road, House.number, House.building, House.unit, House.floor, House.room, House.id)
    if only is not None:
        stmt = stmt.where(House.id.in_(only))
    for h in session.scalars(stmt.execution_options(yield_per=1000)):
        yield {"external_code": codes.get(h.id), **{c.key: getattr(h, c.key) for c in HOUSES.columns[1:]}}


def _person_order(role: str | None) -> tuple[Any, ...]:
    """Rows by ID number for whoever sees it whole; by name for a role that sees it masked:
    the order of two masked rows alike would tell which hidden digits are the greater."""
    if role is None or privacy.clear(role, "person", "id_number"):
        return (Person.id_number,)
    return (Person.name, Person.id)


def _export_persons(session: Session, only: Any, role: str | None) -> Iterator[dict[str, Any]]:
    stmt = (select(Person).where(Person.deleted_at.is_(None), Person.id_number.is_not(None))
            .order_by(*_person_order(role)))
    if only is not None:
        # Those who live there now: former residents are the houses' history (the residencies).
        stmt = stmt.where(Person.id.in_(select(Residency.person_id).where(
            Residency.house_id.in_(only), Residency.end_date.is_(None), Residency.deleted_at.is_(None))))
    employers = _unit_codes(session)
    for p in session.scalars(stmt.execution_options(yield_per=1000)):
        row = {c.key: getattr(p, c.key) for c in PERSONS.columns if c.key != "employer_unit_code"}
        row["employer_unit_code"] = employers.get(p.employer_unit_id) if p.employer_unit_id else None
        yield row if role is None else privacy.values(role, "person", row)


def _unit_codes(session: Session) -> dict[uuid.UUID, str]:
    # The code is set (the WHERE), which its column cannot say.
    coded = cast("Select[uuid.UUID, str]",
                 select(Unit.id, Unit.external_code).where(Unit.external_code.is_not(None)))
    return dict(session.execute(coded).all())


def _export_units(session: Session, only: Any, role: str | None) -> Iterator[dict[str, Any]]:
    """Units with an extract code or none (the phones' finds: exported without one, so they
    re-import as new units only when the centre gives them a code)."""
    codes = _external_codes(session)
    stmt = select(Unit).where(Unit.deleted_at.is_(None)).order_by(Unit.external_code, Unit.name, Unit.id)
    if only is not None:
        stmt = stmt.where(Unit.house_id.in_(only))
    for u in session.scalars(stmt.execution_options(yield_per=1000)):
        yield {"external_code": u.external_code, "name": u.name, "uscc": u.uscc, "kind": u.kind,
               "house_external_code": codes.get(u.house_id) if u.house_id else None}


def _export_residencies(session: Session, only: Any, role: str | None) -> Iterator[dict[str, Any]]:
    codes = _external_codes(session)
    stmt = (select(Residency, Person.id_number).join(Person, Person.id == Residency.person_id)
            .where(Residency.deleted_at.is_(None), Person.deleted_at.is_(None), Person.id_number.is_not(None))
            .order_by(*_person_order(role), Residency.start_date, Residency.id))
    if only is not None:
        stmt = stmt.where(Residency.house_id.in_(only))
    for r, id_number in session.execute(stmt.execution_options(yield_per=1000)):
        yield {"id_number": id_number if role is None else privacy.seen(role, "person", "id_number", id_number),
               "house_external_code": codes.get(r.house_id), "relation": r.relation,
               "start_date": r.start_date, "end_date": r.end_date}


_EXPORTERS: dict[str, Callable[[Session, Any, str | None], Iterator[dict[str, Any]]]] = {
    "houses": _export_houses, "units": _export_units, "persons": _export_persons, "residencies": _export_residencies,
}


def _out_value(col: Column, value: Any) -> Any:
    """A Python value for a cell: enums as Chinese labels, text guarded against formulas."""
    if value is None:
        return None
    if col.kind == "enum" and col.choices is not None:
        return _zh_labels(col.choices).get(value, value)
    return spreadsheet.as_text(value)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return repr(value) if isinstance(value, float) else str(value)


def _note_line(note: str) -> str:
    text = " ".join(note.split())
    return text if text.startswith(COMMENT) else f"{COMMENT} {text}"


def _write_csv(spec: Shape, rows: Iterator[dict[str, Any]], out: IO[bytes], note: str) -> int:
    out.write(codecs.BOM_UTF8)  # so that Excel reads the Chinese as UTF-8
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    try:
        if note.strip():
            text.write(_note_line(note) + "\r\n")
        writer = csv.writer(text)
        writer.writerow([c.zh for c in spec.columns])
        count = 0
        for count, row in enumerate(rows, start=1):
            writer.writerow([_csv_cell(_out_value(c, row.get(c.key))) for c in spec.columns])
        return count
    finally:
        text.flush()
        text.detach()


def _write_xlsx(spec: Shape, rows: Iterator[dict[str, Any]], out: IO[bytes], note: str) -> int:
    # openpyxl 3.1.5 ships no types, and the requirements hold no stubs for it.
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]

    wb = Workbook(write_only=True)
    wb.properties.title = f"{spec.zh} {spec.en}"
    wb.properties.description = note
    ws = wb.create_sheet(spec.zh)
    if note.strip():
        ws.append([_note_line(note)])
    ws.append([c.zh for c in spec.columns])
    count = 0
    for count, row in enumerate(rows, start=1):
        cells = []
        for col in spec.columns:
            value = _out_value(col, row.get(col.key))
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell = WriteOnlyCell(ws, value)
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        ws.append(cells)
    _note_sheet(wb.create_sheet(NOTE_SHEET), spec, note)
    wb.save(out)
    return count


def _note_sheet(ws: Any, spec: Shape, note: str) -> None:
    ws.append(["说明", note])
    ws.append([])
    ws.append(["列名", "英文键", "必填", "格式"])
    for col in spec.columns:
        fmt = {"date": "YYYY-MM-DD", "enum": "、".join(label for _, label in col.choices("zh")) if col.choices else "",
               "int": "整数", "float": "数字"}.get(col.kind, "文本")
        ws.append([col.zh, col.key, "是" if col.required else "", fmt])

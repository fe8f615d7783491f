"""The coverage map page, its JSON and its exports: scoped, audited, readable by Excel."""
from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime, timezone
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.cycles import period
from tests.conftest import login
from tests.factories import _square
from webapp.models import AuditEntry, Cycle, House, Visit
from webapp.base.timeutil import local_today

VISIBLE_CELLS = {
    "coordinator": {"A1"}, "grid_lead": {"A1", "A2"}, "committee": {"A1", "A2"},
    "centre": {"A1", "A2", "B1"}, "police": {"A1", "A2", "B1"},
}
USERNAMES = {"coordinator": "coord", "grid_lead": "lead", "committee": "comm", "centre": "centre",
             "police": "police"}


def _cycle(s: Session, name: str, start: date, end: date, closed: bool = False) -> Cycle:
    cycle = Cycle(name=name, kind="month", starts_on=start, ends_on=end,
                  closed_at=datetime.now(timezone.utc) if closed else None)
    s.add(cycle)
    s.flush()
    return cycle


def _place(house: House, cell_boundary: dict) -> None:
    (lon, lat) = cell_boundary["coordinates"][0][0]
    house.lon, house.lat = lon + 0.001, lat + 0.001


@pytest.fixture
def cov(db_session: Session, area):  # type: ignore[no-untyped-def]
    """The area, with positions, this month's cycle and one visit (to A1's house)."""
    s = db_session
    # Fixed squares near Shanghai (the factories' squares drift east as a run goes on).
    for i, key in enumerate(("A1", "A2", "B1")):
        area.cells[key].boundary = _square(121.23 + 0.003 * i, 31.03)
        _place(area.houses[key], area.cells[key].boundary)
    # This month as geo.cycles names it, in Shanghai's calendar (not the machine's UTC date).
    name, first, last = period(local_today(), "month")
    current = _cycle(s, name, first, last)
    past = _cycle(s, "2020-01", date(2020, 1, 1), date(2020, 1, 31), closed=True)
    s.add(Visit(house_id=area.houses["A1"].id, user_id=area.users["coordinator"].id,
                visited_at=datetime.now(timezone.utc), outcome="verified", plate_scanned=True))
    s.commit()
    return SimpleNamespace(area=area, current=current, past=past)


def _codes(area, keys: set[str]) -> set[str]:  # type: ignore[no-untyped-def]
    return {area.cells[k].code for k in keys}


@pytest.mark.parametrize("role", list(USERNAMES))
def test_data_json_holds_only_the_cells_in_scope(client, cov, role: str) -> None:  # type: ignore[no-untyped-def]
    login(client, USERNAMES[role])
    body = client.get(f"/coverage/data.json?cycle={cov.current.id}").get_json()
    assert {c["code"] for c in body["cells"]} == _codes(cov.area, VISIBLE_CELLS[role])
    outside = {str(c.id) for k, c in cov.area.cells.items() if k not in VISIBLE_CELLS[role]}
    assert not any(cid in client.get("/coverage/data.json").get_data(as_text=True) for cid in outside)
    assert body["cycle"]["id"] == str(cov.current.id)


def test_data_json_numbers_bands_and_outlines(client, cov) -> None:  # type: ignore[no-untyped-def]
    login(client, "lead")
    cells = {c["code"]: c for c in client.get("/coverage/data.json").get_json()["cells"]}
    a1, a2 = cells[cov.area.cells["A1"].code], cells[cov.area.cells["A2"].code]
    assert (a1["houses"], a1["visited"], a1["visited_scanned"], a1["band"], a1["percent"]) == (1, 1, 1, "high", "100%")
    assert (a2["houses"], a2["visited"], a2["band"], a2["percent"]) == (1, 0, "low", "0%")
    assert a1["boundary"] == cov.area.cells["A1"].boundary  # WGS-84 as stored: no tiles configured
    assert "dots" not in a1  # houses are fetched per cell or per box, never all at once


def test_cell_json_lists_unvisited_houses_with_links(client, cov) -> None:  # type: ignore[no-untyped-def]
    login(client, "lead")
    a2 = cov.area.cells["A2"]
    body = client.get(f"/coverage/cells/{a2.id}.json?cycle={cov.current.id}").get_json()
    house = cov.area.houses["A2"]
    assert body["cell"]["code"] == a2.code
    assert body["unvisited"] == [{"id": str(house.id), "address": house.address, "url": f"/houses/{house.id}"}]
    assert [(d["id"], d["status"]) for d in body["dots"]] == [(str(house.id), "unvisited")]
    a1 = client.get(f"/coverage/cells/{cov.area.cells['A1'].id}.json").get_json()
    assert a1["unvisited"] == [] and a1["dots"][0]["status"] == "visited"


def test_a_room_written_in_circled_or_superscript_digits_lists(client, cov, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    """Rooms as people write them ("①", "2²"): the cell's list sorted them with int() on any
    Unicode digit, and int() refuses these two, so the whole cell answered 500."""
    house = cov.area.houses["A2"]
    other = House(cell_id=house.cell_id, road=house.road, number=house.number, building=house.building,
                  room="2²", lon=house.lon, lat=house.lat)
    house.room = "①"
    db_session.add(other)
    db_session.commit()
    login(client, "lead")
    r = client.get(f"/coverage/cells/{cov.area.cells['A2'].id}.json?cycle={cov.current.id}")
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert [u["id"] for u in r.get_json()["unvisited"]] == [str(other.id), str(house.id)]


def test_a_typed_plate_is_visited_but_unverified(client, cov, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    house = cov.area.houses["A2"]
    db_session.add(Visit(house_id=house.id, user_id=cov.area.users["coordinator"].id,
                         visited_at=datetime.now(timezone.utc), outcome="verified", plate_scanned=False))
    db_session.commit()
    login(client, "lead")
    body = client.get(f"/coverage/cells/{cov.area.cells['A2'].id}.json").get_json()
    assert (body["cell"]["visited"], body["cell"]["unverified"], body["unvisited"]) == (1, 1, [])
    assert [d["status"] for d in body["dots"]] == ["unverified"]


def test_cell_json_outside_scope_is_not_found(client, cov) -> None:  # type: ignore[no-untyped-def]
    login(client, "lead")
    assert client.get(f"/coverage/cells/{cov.area.cells['B1'].id}.json").status_code == 404
    assert client.get(f"/coverage/cells/{uuid.uuid4()}.json").status_code == 404


@pytest.mark.parametrize("role", list(USERNAMES))
def test_dots_in_a_box_stay_in_scope(client, cov, role: str) -> None:  # type: ignore[no-untyped-def]
    login(client, USERNAMES[role])
    body = client.get("/coverage/dots.json?bbox=121,30,122,32").get_json()
    expected = {str(cov.area.houses[k].id) for k in VISIBLE_CELLS[role]}
    assert {d["id"] for d in body["dots"]} == expected and body["too_many"] is False


def test_dots_refuse_a_bad_box(client, cov) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    for bbox in ("", "1,2,3", "a,b,c,d", "122,31,121,32"):
        assert client.get(f"/coverage/dots.json?bbox={bbox}").status_code == 400


def test_too_many_dots_sends_none(client, cov, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("webapp.coverage.dots.DOTS_LIMIT", 1)
    login(client, "centre")
    body = client.get("/coverage/dots.json?bbox=121,30,122,32").get_json()
    assert body["dots"] == [] and body["too_many"] is True


def test_page_shows_table_selector_and_no_outside_cells(client, cov) -> None:  # type: ignore[no-untyped-def]
    login(client, "lead")
    response = client.get("/coverage")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert cov.area.cells["A1"].code in page and cov.area.cells["B1"].code not in page
    assert str(cov.past.id) in page and str(cov.current.id) in page  # the cycle selector
    assert "/vendor/leaflet/" in page and "<script>" not in page  # no inline script
    assert "甲居委" in page  # committee subtotal row
    csp = response.headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob:;" in csp  # no tiles configured: nothing from elsewhere


def test_past_cycle_and_unknown_cycles(client, cov) -> None:  # type: ignore[no-untyped-def]
    login(client, "lead")
    past = client.get(f"/coverage/data.json?cycle={cov.past.id}").get_json()
    assert past["cycle"]["name"] == "2020-01" and all(c["visited"] == 0 for c in past["cells"])
    assert client.get(f"/coverage/data.json?cycle={uuid.uuid4()}").status_code == 404
    assert client.get("/coverage/data.json?cycle=not-a-uuid").status_code == 404


def test_tiles_and_gcj02(app, client, cov) -> None:  # type: ignore[no-untyped-def]
    app.config.update(MAP_TILE_URL="https://t{s}.tiles.example/{z}/{x}/{y}.png", MAP_TILE_CRS="gcj02",
                      MAP_TILE_ATTRIBUTION="© example")
    login(client, "lead")
    response = client.get("/coverage")
    assert "https://*.tiles.example" in response.headers["Content-Security-Policy"]
    assert 'data-tile-url="https://t{s}.tiles.example/{z}/{x}/{y}.png"' in response.get_data(as_text=True)
    cells = {c["code"]: c for c in client.get("/coverage/data.json").get_json()["cells"]}
    stored = cov.area.cells["A1"].boundary["coordinates"][0][0]
    drawn = cells[cov.area.cells["A1"].code]["boundary"]["coordinates"][0][0]
    # GCJ-02 near Shanghai is a few hundred metres east and south of WGS-84.
    assert 0.001 < drawn[0] - stored[0] < 0.01 and -0.01 < drawn[1] - stored[1] < 0
    assert cov.area.cells["A1"].boundary["coordinates"][0][0] == stored  # nothing stored changed


def test_csv_export_has_bom_note_and_is_audited(client, cov, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    login(client, "lead")
    response = client.get(f"/coverage/export.csv?cycle={cov.current.id}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert "lead" in lines[0] and cov.current.name in lines[0]
    text = "\n".join(lines)
    assert cov.area.cells["A1"].code in text and cov.area.cells["B1"].code not in text
    db_session.rollback()
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "export_coverage")).one()
    assert entry.user_id == cov.area.users["grid_lead"].id
    assert entry.object_id == str(cov.current.id)
    assert entry.detail["fmt"] == "csv" and entry.detail["note"] == lines[0].strip('"')


def test_xlsx_export_opens_with_openpyxl(client, cov, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    response = client.get("/coverage/export.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    cells_sheet, committees_sheet = (list(ws.iter_rows(values_only=True)) for ws in book.worksheets)
    assert "centre" in str(cells_sheet[0][0])
    codes = {row[1] for row in cells_sheet[2:]}
    assert codes == _codes(cov.area, VISIBLE_CELLS["centre"])
    names = [row[0] for row in committees_sheet[2:]]
    assert {"甲居委", "乙居委"} <= set(names) and len(names) == 3  # two committees and the total
    total = committees_sheet[-1]
    assert total[1] == 3 and total[2] == 1  # 3 houses in cells, 1 visited
    db_session.rollback()
    assert db_session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "export_coverage")).one()["fmt"] == "xlsx"


def test_unknown_export_format(client, cov) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    assert client.get("/coverage/export.pdf").status_code == 404


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_keeps_a_formula_like_name_as_text(client, cov, db_session: Session, fmt: str) -> None:  # type: ignore[no-untyped-def]
    # The coverage files are written by the one export writer, with its formula guard.
    cov.area.cells["A1"].name = '=HYPERLINK("http://evil.example","点我")'
    db_session.commit()
    login(client, "centre")
    body = client.get(f"/coverage/export.{fmt}").get_data()
    if fmt == "csv":
        names = [row[2] for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) if len(row) > 2]
    else:
        names = [row[2] for row in load_workbook(io.BytesIO(body)).worksheets[0].iter_rows(min_row=3, values_only=True)]
    assert "'=HYPERLINK(\"http://evil.example\",\"点我\")" in names
    assert not any(str(n).startswith("=") for n in names)

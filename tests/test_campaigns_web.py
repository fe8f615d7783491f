"""Campaign pages (issue 9): the centre opens a campaign by cells or by a drawn polygon,
makes its tasks again, closes it; everyone who sees the cells follows its progress, on the
page, in exports and on the coverage map; the collection cycle runs from the console."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

from openpyxl import load_workbook
from sqlalchemy import func, select

from tests import factories as f
from tests.conftest import csrf_token, login
from webapp.models import AuditEntry, Campaign, Cycle, Task, Visit
from webapp.base.timeutil import local_today

PLAZA = ('{"type": "Polygon", "coordinates": [[[121.300, 31.000], [121.302, 31.000], [121.302, 31.002], '
         '[121.300, 31.002], [121.300, 31.000]]]}')


def _form(client, **kw):  # type: ignore[no-untyped-def]
    today = local_today()
    data = {"csrf_token": csrf_token(client, "/campaigns/new"), "name": "商业广场排查", "note": "群租、居改非",
            "starts_on": today.isoformat(), "due_on": (today + timedelta(days=14)).isoformat(), "area_kind": "cells"}
    data.update(kw)
    return data


def _audits(db_session, action: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    db_session.rollback()
    return list(db_session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_the_centre_opens_a_campaign_by_cells(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    page = client.get("/campaigns/new")
    assert page.status_code == 200 and "area-map" in page.get_data(as_text=True)
    data = _form(client, cells=[str(area.cells["A1"].id), str(area.cells["B1"].id)])
    response = client.post("/campaigns/new", data=data)
    assert response.status_code == 302
    db_session.rollback()
    campaign = db_session.scalars(select(Campaign)).one()
    assert {c.code for c in campaign.cells} == {area.cells["A1"].code, area.cells["B1"].code}
    assert response.headers["Location"].endswith(f"/campaigns/{campaign.id}")
    tasks = db_session.scalars(select(Task).where(Task.source == "campaign")).all()
    assert {t.house_id for t in tasks} == {area.houses["A1"].id, area.houses["B1"].id}
    assert all(t.due_on == campaign.due_on for t in tasks)
    (entry,) = _audits(db_session, "campaign.open")
    assert entry.detail["tasks"] == 2 and entry.user_id == area.users["centre"].id
    shown = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "商业广场排查" in shown and area.cells["A1"].code in shown
    # Making tasks again makes none; the page says so.
    client.post(f"/campaigns/{campaign.id}/generate", data={"csrf_token": csrf_token(client, "/campaigns")})
    assert db_session.scalar(select(func.count()).select_from(Task).where(Task.source == "campaign")) == 2
    assert _audits(db_session, "campaign.generate")[0].detail["tasks"] == 0


def test_a_drawn_area_is_checked_with_errors_in_both_languages(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    inside = f.house(db_session, area.cells["A2"], lon=121.301, lat=31.001)
    db_session.commit()
    login(client, "centre")
    bowtie = ('{"type": "Polygon", "coordinates": [[[121.3, 31.0], [121.301, 31.001], [121.301, 31.0], '
              '[121.3, 31.001], [121.3, 31.0]]]}')
    response = client.post("/campaigns/new", data=_form(client, area_kind="polygon", boundary=bowtie))
    assert response.status_code == 422
    assert "多边形无效" in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(Campaign)) == 0
    client.post("/lang/en", data={"csrf_token": csrf_token(client, "/"), "next": "/"})
    response = client.post("/campaigns/new", data=_form(client, area_kind="polygon", boundary="{oops"))
    assert response.status_code == 422 and "not valid JSON" in response.get_data(as_text=True)
    # Cells chosen but "polygon" ticked: the polygon is what counts, and it must be there.
    response = client.post("/campaigns/new", data=_form(client, area_kind="polygon", boundary=""))
    assert response.status_code == 422 and "Draw the area" in response.get_data(as_text=True)
    response = client.post("/campaigns/new", data=_form(client, area_kind="cells"))
    assert response.status_code == 422 and "Choose at least one cell" in response.get_data(as_text=True)

    assert client.post("/campaigns/new", data=_form(client, area_kind="polygon", boundary=PLAZA)).status_code == 302
    db_session.rollback()
    campaign = db_session.scalars(select(Campaign)).one()
    assert campaign.by_polygon and campaign.cells == []
    assert db_session.scalars(select(Task.house_id).where(Task.source == "campaign")).all() == [inside.id]
    cells = client.get("/campaigns/cells.json").get_json()["cells"]
    assert {c["code"] for c in cells} == {c.code for c in area.cells.values()}


def _campaign(db_session, area, cells=("A1", "A2")):  # type: ignore[no-untyped-def]
    from webapp.oversight.tasks.campaigns import open_campaign

    campaign, _opened = open_campaign(db_session, name="重点排查", starts_on=date(2026, 1, 1), due_on=date(2030, 1, 1),
                                      by_user_id=area.users["centre"].id,
                                      cell_ids={area.cells[k].id for k in cells})
    db_session.commit()
    return campaign


def test_leads_and_committees_see_their_cells_progress_and_exports(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    campaign = _campaign(db_session, area, ("A1", "B1"))
    db_session.add(Visit(house_id=area.houses["A1"].id, user_id=area.users["coordinator"].id,
                         visited_at=datetime.now(timezone.utc) - timedelta(hours=1), outcome="verified",
                         plate_scanned=True))
    db_session.commit()
    login(client, "lead")  # cells A1, A2: the campaign's A1 only
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert area.cells["A1"].code in page and area.cells["B1"].code not in page
    assert "重点排查" in client.get("/campaigns").get_data(as_text=True)
    # No buttons to act: only the centre opens, generates and closes.
    assert "/close" not in page
    for url in (f"/campaigns/{campaign.id}/close", f"/campaigns/{campaign.id}/generate", "/campaigns/cycle/run"):
        assert client.post(url, data={"csrf_token": csrf_token(client, "/")}).status_code == 403
    assert client.get("/campaigns/new").status_code == 403

    body = client.get(f"/campaigns/{campaign.id}/export.csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert "campaign export" in rows[0][0] and "lead" in rows[0][0]
    head, *data = rows[1:]
    assert [r[0] for r in data] == [area.cells["A1"].code, "Total"] or [r[0] for r in data] == [
        area.cells["A1"].code, "合计"]
    by = dict(zip(head, data[0], strict=True))
    assert [by[h] for h in head[3:6]] == ["1", "1", "1"]  # houses, visited, scanned
    xlsx = client.get(f"/campaigns/{campaign.id}/export.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet.cell(row=3, column=1).value == area.cells["A1"].code
    exports = _audits(db_session, "export_campaign")
    assert [e.detail["fmt"] for e in exports] == ["csv", "xlsx"] and exports[0].user_id == area.users["grid_lead"].id

    # A campaign elsewhere is not confirmed to exist.
    other = _campaign_named(db_session, area, "乙区排查", ("B1",))
    assert client.get(f"/campaigns/{other.id}").status_code == 404
    assert client.get(f"/coverage?campaign={other.id}").status_code == 404
    assert "乙区排查" not in client.get("/campaigns").get_data(as_text=True)


def _campaign_named(db_session, area, name, cells):  # type: ignore[no-untyped-def]
    from webapp.oversight.tasks.campaigns import open_campaign

    campaign, _opened = open_campaign(db_session, name=name, starts_on=date(2026, 1, 1), due_on=date(2030, 1, 1),
                                      by_user_id=None, cell_ids={area.cells[k].id for k in cells})
    db_session.commit()
    return campaign


def test_closing_freezes_the_page_and_later_visits_change_nothing(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    campaign = _campaign(db_session, area)
    login(client, "centre")
    response = client.post(f"/campaigns/{campaign.id}/close", data={"csrf_token": csrf_token(client, "/campaigns")})
    assert response.status_code == 302
    (entry,) = _audits(db_session, "campaign.close")
    assert entry.detail["houses"] == 2 and entry.detail["visited"] == 0
    db_session.add(Visit(house_id=area.houses["A1"].id, user_id=None, visited_at=datetime.now(timezone.utc),
                         outcome="verified", plate_scanned=True))
    db_session.commit()
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "frozen" in page or "冻结" in page
    data = client.get(f"/coverage/data.json?campaign={campaign.id}").get_json()
    assert data["frozen"] and {c["code"]: c["visited"] for c in data["cells"]} == {
        area.cells["A1"].code: 0, area.cells["A2"].code: 0}
    # Open tasks stay open; closing twice or generating after close is refused with a message.
    assert db_session.scalar(select(func.count()).select_from(Task).where(Task.status == "open",
                                                                         Task.source == "campaign")) == 2
    client.post(f"/campaigns/{campaign.id}/generate", data={"csrf_token": csrf_token(client, "/campaigns")})
    again = client.post(f"/campaigns/{campaign.id}/close", data={"csrf_token": csrf_token(client, "/campaigns")},
                        follow_redirects=True)
    assert "已结束" in again.get_data(as_text=True) or "already closed" in again.get_data(as_text=True)
    assert len(_audits(db_session, "campaign.close")) == 1


def test_the_coverage_map_shows_a_campaign(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    from webapp.oversight.tasks.campaigns import open_campaign

    for key, lon in (("A1", 121.3005), ("A2", 121.3015)):
        area.houses[key].lon, area.houses[key].lat = lon, 31.0005
    db_session.add(Visit(house_id=area.houses["A1"].id, user_id=None, visited_at=datetime.now(timezone.utc),
                         outcome="verified"))
    boundary = __import__("json").loads(PLAZA)
    campaign, _opened = open_campaign(db_session, name="广场", starts_on=date(2026, 1, 1), due_on=date(2030, 1, 1),
                                      by_user_id=None, boundary=boundary)
    db_session.commit()
    login(client, "comm")
    page = client.get(f"/coverage?campaign={campaign.id}")
    assert page.status_code == 200 and f"data.json?campaign={campaign.id}" in page.get_data(as_text=True)
    data = client.get(f"/coverage/data.json?campaign={campaign.id}").get_json()
    assert data["area"]["type"] == "Polygon" and data["campaign"]["name"] == "广场"
    cells = {c["code"]: c for c in data["cells"]}
    assert cells[area.cells["A1"].code]["visited"] == 1 and cells[area.cells["A1"].code]["band"] == "high"
    assert cells[area.cells["A2"].code]["visited"] == 0 and cells[area.cells["A2"].code]["band"] == "low"
    one = client.get(f"/coverage/cells/{area.cells['A2'].id}.json?campaign={campaign.id}").get_json()
    assert [h["id"] for h in one["unvisited"]] == [str(area.houses["A2"].id)]
    assert [d["status"] for d in one["dots"]] == ["unvisited"]
    dots = client.get(f"/coverage/dots.json?campaign={campaign.id}&bbox=121.29,30.99,121.31,31.01").get_json()
    assert {d["id"]: d["status"] for d in dots["dots"]} == {str(area.houses["A1"].id): "visited",
                                                            str(area.houses["A2"].id): "unvisited"}
    assert client.get("/coverage/data.json?campaign=99999").status_code == 404
    assert client.get("/coverage/data.json?campaign=x").status_code == 404
    # Past the id column's range: not found, not a database error.
    assert client.get("/coverage/data.json?campaign=99999999999").status_code == 404
    assert client.get("/coverage/data.json?campaign=2147483648").status_code == 404
    assert client.get("/campaigns/2147483648").status_code == 404
    assert client.get("/campaigns/99999999999999999999/export.csv").status_code == 404


def test_the_centre_runs_the_collection_cycle_from_the_console(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    page = client.get("/campaigns").get_data(as_text=True)
    assert "/campaigns/cycle/run" in page
    response = client.post("/campaigns/cycle/run", data={"csrf_token": csrf_token(client, "/campaigns")})
    assert response.status_code == 302
    db_session.rollback()
    cycle = db_session.scalars(select(Cycle)).one()
    unvisited = db_session.scalars(select(Task).where(Task.source == "unvisited")).all()
    # Every placed house, whatever the day of the cycle (the cron waits until late in it).
    assert {t.house_id for t in unvisited} == {area.houses[k].id for k in ("A1", "A2", "B1")}
    assert all(t.due_on <= cycle.ends_on for t in unvisited)
    (entry,) = _audits(db_session, "generate_tasks")
    assert entry.detail["unvisited"] == 3 and entry.detail["cycle"] == cycle.name
    client.post("/campaigns/cycle/run", data={"csrf_token": csrf_token(client, "/campaigns")})
    assert db_session.scalar(select(func.count()).select_from(Task).where(Task.source == "unvisited")) == 3


def test_a_campaign_from_open_to_frozen_figures_through_the_phone(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    """Opened on the console → the task on the coordinator's phone → visit and close pushed
    offline-style → counted in the campaign's progress → closed, figures frozen."""
    from tests.test_tasks_sync import _close_offline, _phone

    login(client, "centre")
    data = _form(client, cells=[str(area.cells["A1"].id)], starts_on="2026-11-01", due_on="2026-12-15")
    assert client.post("/campaigns/new", data=data).status_code == 302
    db_session.rollback()
    campaign = db_session.scalars(select(Campaign)).one()

    phone = _phone(client, "coord")
    [task] = [t for t in phone.rows["task"].values() if t["source"] == "campaign"]
    assert task["house_id"] == str(area.houses["A1"].id) and task["due_on"] == "2026-12-15"
    assert "origin_key" not in task
    _close_offline(phone, task["id"], task["house_id"], result="changed")
    assert [o["status"] for o in phone.push()] == ["applied", "applied"]

    def figures() -> dict[str, str]:
        body = client.get(f"/campaigns/{campaign.id}/export.csv").get_data().decode("utf-8-sig")
        head, *rows = list(csv.reader(io.StringIO(body)))[1:]
        return dict(zip(head, rows[0], strict=True))

    live = figures()
    assert list(live.values())[3:11] == ["1", "1", "0", "1", "0", "1", "1", "0"]
    # houses, visited, scanned, tasks, open, closed, changed, no_change
    client.post(f"/campaigns/{campaign.id}/close", data={"csrf_token": csrf_token(client, "/campaigns")})
    db_session.rollback()
    assert db_session.get(Campaign, campaign.id).figures["total"]["changed"] == 1  # type: ignore[union-attr]
    assert figures() == live

"""The reports pages: daily lists, grading, drill-down, exports (read back), scope, audit."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import csrf_token, login, logout, valid_id
from webapp.models import AuditEntry, Conflict, Cycle, GradeSnapshot, HouseFlag, ResidenceCheck
from webapp.oversight.grading.drill import METRICS
from webapp.base.timeutil import local_today, local_week_start

USERNAMES = {"coordinator": "coord", "grid_lead": "lead", "committee": "comm", "centre": "centre",
             "police": "police"}


@pytest.fixture
def moves(area, db_session: Session):  # type: ignore[no-untyped-def]
    """A new arrival this week in A1 and in B1."""
    s = db_session
    out = {}
    for key, n in (("A1", "31011719950505101"), ("B1", "31011719960606102")):
        p = f.person(s, name=f"新{key}", id_number=valid_id(n), phone="13900000000")
        f.residency(s, p, area.houses[key], start_date=local_week_start())
        out[key] = p
    s.commit()
    return out


def relogin(client, username: str) -> None:  # type: ignore[no-untyped-def]
    logout(client)
    login(client, username)


def _csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    body = response.get_data()
    assert body.startswith("\ufeff".encode())  # Excel reads UTF-8 only with the BOM
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_arrivals_this_week_are_scoped(client, area, moves) -> None:  # type: ignore[no-untyped-def]
    login(client, "comm")
    page = client.get("/reports/lists/arrivals").get_data(as_text=True)
    assert "新A1" in page and "新B1" not in page
    assert moves["A1"].id_number not in page  # masked for the committee
    relogin(client, "centre")
    page = client.get("/reports/lists/arrivals").get_data(as_text=True)
    assert "新A1" in page and "新B1" in page and moves["A1"].id_number in page


@pytest.mark.parametrize("name", ["arrivals", "departures", "flags", "permits", "omissions", "duplicates",
                                  "separated"])
@pytest.mark.parametrize("role", list(USERNAMES))
def test_every_list_loads_for_every_role(client, area, name: str, role: str) -> None:  # type: ignore[no-untyped-def]
    login(client, USERNAMES[role])
    assert client.get(f"/reports/lists/{name}").status_code == 200


def test_filters_by_committee_and_cell_within_scope(client, area, moves) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    a, b = area.committees["A"].id, area.committees["B"].id
    page = client.get(f"/reports/lists/arrivals?committee={b}").get_data(as_text=True)
    assert "新B1" in page and "新A1" not in page
    page = client.get(f"/reports/lists/arrivals?cell={area.cells['A1'].id}").get_data(as_text=True)
    assert "新A1" in page and "新B1" not in page
    relogin(client, "comm")
    assert client.get(f"/reports/lists/arrivals?committee={b}").status_code == 404
    assert client.get(f"/reports/lists/arrivals?cell={area.cells['B1'].id}").status_code == 404
    assert client.get(f"/reports/lists/arrivals?committee={a}").status_code == 200
    assert client.get("/reports/lists/flags?rule=nonsense").status_code == 404
    assert client.get("/reports/lists/flags?rule=accuracy&kind=no_phone").status_code == 200
    assert client.get("/reports/lists/nonsense").status_code == 404


def test_flags_say_why(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    page = client.get("/reports/lists/flags?rule=accuracy").get_data(as_text=True)
    assert "房屋无坐标" in page  # the fixture's houses have no location
    assert "房屋未划入网格" in page  # and one has no cell


def test_csv_export_is_audited_and_masked_for_the_committee(client, area, moves, db_session) -> None:  # type: ignore[no-untyped-def]
    login(client, "comm")
    response = client.get("/reports/lists/arrivals.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    rows = _csv(response)
    assert "comm" in rows[0][0] and "Asia/Shanghai" in rows[0][0]
    body = [r for r in rows[2:] if r]
    assert [r[3] for r in body] == ["新A1"]
    assert body[0][4] != moves["A1"].id_number and body[0][4].endswith(moves["A1"].id_number[-4:])
    db_session.rollback()
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "export_report")).one()
    assert entry.user_id == area.users["committee"].id
    assert entry.detail["report"] == "arrivals" and entry.detail["rows"] == 1 and entry.detail["full_ids"] is False
    assert entry.detail["note"] == rows[0][0]


def test_xlsx_export_reads_back_with_full_ids_for_the_centre(client, area, moves) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    response = client.get("/reports/lists/arrivals.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.get_data()))
    sheet = book.worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert "centre" in values[0][0]
    assert values[1][:5] == ["居委会", "网格", "地址", "记录", "证件号码"]
    ids = {row[4] for row in values[2:]}
    assert {moves["A1"].id_number, moves["B1"].id_number} <= ids


@pytest.mark.parametrize("role", ["coordinator", "grid_lead"])
def test_exports_need_the_export_permission(client, area, role: str) -> None:  # type: ignore[no-untyped-def]
    login(client, USERNAMES[role])
    assert client.get("/reports/lists/arrivals.csv").status_code == 403
    assert client.get("/reports/grading").status_code == 403


@pytest.mark.parametrize("metric", sorted(METRICS))
def test_every_drill_down_exports_as_a_workbook_in_chinese(client, area, metric: str) -> None:  # type: ignore[no-untyped-def]
    # The reviews list's sheet was named "待审核/已退回": Excel refuses a "/" there, and the
    # Chinese export was a 500 (the English title had none).
    login(client, "centre")
    a = area.committees["A"].id
    answer = client.get(f"/reports/grading/committees/{a}/drill/{metric}.xlsx", headers={"Accept-Language": "zh-CN"})
    assert answer.status_code == 200, metric
    book = load_workbook(io.BytesIO(answer.get_data()))
    assert all("/" not in name for name in book.sheetnames)


def test_a_sheet_name_is_one_excel_takes() -> None:
    from webapp.reports.export import sheet_title

    assert sheet_title("待审核/已退回") == "待审核-已退回" and sheet_title("'" + "长" * 40 + "'") == "长" * 31
    assert sheet_title("a[b]c:d*e?f\\g") == "a-b-c-d-e-f-g" and sheet_title("''") == "Sheet"


def test_grading_pages_drill_down_and_exports(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    page = client.get("/reports/grading").get_data(as_text=True)
    assert "甲居委" in page and "乙居委" in page
    a = area.committees["A"].id
    page = client.get(f"/reports/grading/committees/{a}").get_data(as_text=True)
    assert "/drill/violations" in page
    page = client.get(f"/reports/grading/committees/{a}/drill/violations").get_data(as_text=True)
    assert "房屋无坐标" in page
    assert client.get(f"/reports/grading/committees/{a}/drill/nonsense").status_code == 404
    # The open tasks' list was "tips" before issue 20: old links redirect (page and export).
    old = client.get(f"/reports/grading/committees/{a}/drill/tips?page=2")
    assert (old.status_code, old.headers["Location"]) == (301, f"/reports/grading/committees/{a}/drill/tasks?page=2")
    old = client.get(f"/reports/grading/committees/{a}/drill/tips.csv")
    assert (old.status_code, old.headers["Location"]) == (301, f"/reports/grading/committees/{a}/drill/tasks.csv")
    assert client.get(f"/reports/grading/committees/{a}/drill/tasks").status_code == 200
    book = load_workbook(io.BytesIO(client.get("/reports/grading/export.xlsx").get_data()))
    values = [[c.value for c in row] for row in book.worksheets[0].iter_rows()]
    assert values[1][:4] == ["居委会", "编码", "等级", "得分"]
    assert [v[0] for v in values[2:]] == ["甲居委", "乙居委", "街道合计"]
    rows = _csv(client.get(f"/reports/grading/committees/{a}/drill/violations.csv"))
    assert any("房屋无坐标" in " ".join(r) for r in rows[2:])
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "export_report")) == 2


def test_a_committee_sees_only_its_own_grades(client, area) -> None:  # type: ignore[no-untyped-def]
    login(client, "comm")
    page = client.get("/reports/grading").get_data(as_text=True)
    assert "甲居委" in page and "乙居委" not in page
    assert client.get(f"/reports/grading/committees/{area.committees['B'].id}").status_code == 404
    assert client.get(f"/reports/grading/committees/{area.committees['A'].id}").status_code == 200


def test_the_centre_closes_a_cycle_and_its_grades_freeze(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    last = local_today().replace(day=1) - timedelta(days=1)
    cycle = Cycle(name=f"{last:%Y-%m}", kind="month", starts_on=last.replace(day=1), ends_on=last)
    db_session.add(cycle)
    db_session.commit()
    login(client, "comm")
    token = csrf_token(client, "/")
    assert client.post("/reports/grading/close", data={"csrf_token": token, "cycle": str(cycle.id)}).status_code == 403
    relogin(client, "centre")
    page = client.get(f"/reports/grading?cycle={cycle.id}").get_data(as_text=True)
    assert "/reports/grading/close" in page
    token = csrf_token(client, "/")
    response = client.post("/reports/grading/close", data={"csrf_token": token, "cycle": str(cycle.id)})
    assert response.status_code == 302
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(GradeSnapshot)
                             .where(GradeSnapshot.cycle_id == cycle.id)) == 3
    assert db_session.get(Cycle, cycle.id).closed_at is not None  # type: ignore[union-attr]
    # The page offers no close while a cycle runs; a post made anyway is refused.
    running = Cycle(name="running", kind="month", starts_on=local_today().replace(day=1), ends_on=local_today())
    db_session.add(running)
    db_session.commit()
    early = client.post("/reports/grading/close", data={"csrf_token": token, "cycle": str(running.id)})
    assert "次日起才能关闭" in client.get(early.headers["Location"]).get_data(as_text=True)
    db_session.rollback()
    assert db_session.get(Cycle, running.id).closed_at is None  # type: ignore[union-attr]
    page = client.get(f"/reports/grading?cycle={cycle.id}").get_data(as_text=True)
    assert "these grades no longer change" in page or "不再变化" in page
    assert f">{cycle.name}<" in page  # in the trend


def test_house_page_says_why_and_records_the_committee_check(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    house = area.houses["A1"]
    db_session.add(HouseFlag(house_id=house.id, kind="illegal_building"))
    db_session.commit()
    login(client, "comm")
    page = client.get(f"/houses/{house.id}").get_data(as_text=True)
    assert "标记为违法建筑" in page and "residence-check" in page
    token = csrf_token(client, f"/houses/{house.id}")
    response = client.post(f"/reports/houses/{house.id}/residence-check",
                           data={"csrf_token": token, "result": "refused", "note": "屋顶违章搭建"})
    assert response.status_code == 302
    db_session.rollback()
    check = db_session.scalars(select(ResidenceCheck)).one()
    assert (check.result, check.note, check.checked_by_id) == ("refused", "屋顶违章搭建", area.users["committee"].id)
    assert check.reasons == ["标记为违法建筑 / Flagged illegal building"]
    page = client.get(f"/houses/{house.id}").get_data(as_text=True)
    assert "不予认定" in page and "屋顶违章搭建" in page
    assert db_session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "residence_check")) == 1
    # Police read the verdict but record nothing.
    relogin(client, "police")
    page = client.get(f"/houses/{house.id}").get_data(as_text=True)
    assert "标记为违法建筑" in page and "residence-check" not in page


def test_the_centre_raises_duplicates_as_conflicts(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    twin = area.persons["A1"]
    other = f.person(db_session, name=twin.name, id_number=valid_id("11010519491231003"), phone="13912345678")
    f.residency(db_session, other, area.houses["A2"])
    db_session.commit()
    login(client, "centre")
    page = client.get("/reports/lists/duplicates").get_data(as_text=True)
    assert "疑似同一人" in page
    token = csrf_token(client, "/")
    assert client.post("/reports/tasks", data={"csrf_token": token, "rule": "duplicates"}).status_code == 302
    assert client.post("/reports/tasks", data={"csrf_token": token, "rule": "duplicates"}).status_code == 302
    db_session.rollback()
    (conflict,) = db_session.scalars(select(Conflict)).all()
    assert conflict.kind == "rule_likely_duplicate" and conflict.committee_id == area.committees["A"].id
    assert db_session.get(type(twin), other.id).deleted_at is None  # nothing merged
    # The centre finds it in the conflict queue, with the rule's reason.
    assert client.get("/conflicts").status_code == 200
    page = client.get(f"/conflicts/{conflict.id}")
    assert page.status_code == 200

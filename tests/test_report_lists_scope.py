"""A report list is asked for by the cells of the house a finding is about, but the person found
there may live elsewhere now: a departure to another committee's cell, a possible omission
(no home at all). Such a person is the old house's history to the viewer, as on the house's
page: a name and dates, no number and no record to open. And a page of findings is a look at
the persons on it: audited, as its export is."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import login, valid_id
from webapp.base.timeutil import local_today, local_week_start
from webapp.models import AuditEntry
from webapp.validation import mask_id

# Who opens which list: the coordinator of A1 (numbers in clear), the grid lead of A1 and A2
# and committee A (masked).
VIEWERS = ("coord", "lead", "comm")


@pytest.fixture
def gone(area, db_session: Session):  # type: ignore[no-untyped-def]
    """走 left A1 today for B1 (committee B); 无 left A1 today for nowhere; 留 moved into A1."""
    s, today = db_session, local_today()
    out = {}
    for key, digits in (("走", "31011719700101111"), ("无", "31011719700202222"), ("留", "31011719700303333")):
        out[key] = f.person(s, name=f"{key}某", id_number=valid_id(digits), phone="13700000000")
    f.residency(s, out["走"], area.houses["A1"], start_date=local_week_start().replace(year=2020), end_date=today)
    f.residency(s, out["走"], area.houses["B1"], start_date=today)
    f.residency(s, out["无"], area.houses["A1"], start_date=local_week_start().replace(year=2020), end_date=today)
    f.residency(s, out["留"], area.houses["A1"], start_date=local_week_start())
    s.commit()
    return out


def _shows_no_number(page: str, person) -> None:  # type: ignore[no-untyped-def]
    assert person.id_number not in page and mask_id(person.id_number) not in page
    assert f"/persons/{person.id}" not in page


@pytest.mark.parametrize("username", VIEWERS)
def test_a_departure_to_another_committee_shows_the_name_only(client, area, gone, username: str) -> None:  # type: ignore[no-untyped-def]
    login(client, username)
    page = client.get("/reports/lists/departures").get_data(as_text=True)
    assert "走某" in page and "无某" in page  # who left, and when: the house's history
    _shows_no_number(page, gone["走"])
    _shows_no_number(page, gone["无"])


@pytest.mark.parametrize("username", VIEWERS)
def test_a_possible_omission_shows_the_name_only(client, area, gone, username: str) -> None:  # type: ignore[no-untyped-def]
    login(client, username)
    page = client.get("/reports/lists/omissions").get_data(as_text=True)
    assert "无某" in page
    _shows_no_number(page, gone["无"])


def test_a_resident_of_ones_cells_still_shows_as_the_role_sees_him(client, area, gone) -> None:  # type: ignore[no-untyped-def]
    login(client, "coord")
    page = client.get("/reports/lists/arrivals").get_data(as_text=True)
    assert gone["留"].id_number in page and f"/persons/{gone['留'].id}" in page


def test_the_committee_of_the_new_home_sees_the_arrival(client, area, gone, db_session) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    page = client.get("/reports/lists/departures").get_data(as_text=True)
    assert gone["走"].id_number in page and gone["无"].id_number in page  # the centre holds every record


def test_the_committees_export_leaves_the_number_out_too(client, area, gone) -> None:  # type: ignore[no-untyped-def]
    login(client, "comm")
    body = client.get("/reports/lists/departures.csv").get_data(as_text=True)
    assert "走某" in body
    assert mask_id(gone["走"].id_number) not in body and gone["走"].id_number not in body


def test_a_page_of_findings_is_audited_with_whom_it_showed(client, area, gone, db_session) -> None:  # type: ignore[no-untyped-def]
    login(client, "coord")
    assert client.get("/reports/lists/arrivals").status_code == 200
    db_session.rollback()
    [entry] = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "view_report")).all()
    assert entry.detail["report"] == "arrivals" and str(gone["留"].id) in entry.detail["persons"]
    assert entry.detail["clear"] == ["id_number"]  # the coordinator saw the numbers whole


def test_a_drill_down_page_is_audited(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    a = area.committees["A"].id
    assert client.get(f"/reports/grading/committees/{a}/drill/violations").status_code == 200
    db_session.rollback()
    [entry] = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "view_report")).all()
    assert entry.detail["report"] == "grading_drill" and entry.detail["metric"] == "violations"

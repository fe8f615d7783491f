"""Data scope as a matrix: every page and endpoint × every role (and anonymous).

The expected answer is derived from two rules, not listed by hand: who sees which cells,
and which roles may change records. Out-of-area records answer 404 so their existence is
not confirmed; a role that may not act at all answers 403.
"""
from __future__ import annotations

import pytest

from tests.conftest import csrf_token, login

pytestmark = pytest.mark.slow  # every role against every page: about 1,200 requests: `make test`, not `make check`

ROLES = ["anonymous", "coordinator", "grid_lead", "committee", "centre", "police", "reporter"]
# Which house keys (see the `area` fixture) each role sees. A community reporter sees no
# registry data at all; they report on their committee's houses (REPORTABLE) by address.
VISIBLE = {
    "coordinator": {"A1"}, "grid_lead": {"A1", "A2"}, "committee": {"A1", "A2"},
    "centre": {"A1", "A2", "B1", "none"}, "police": {"A1", "A2", "B1", "none"}, "reporter": set(),
}
REPORTABLE = {"A1", "A2"}
WRITERS = {"coordinator", "grid_lead", "committee", "centre"}
# Narrower sets (webapp/registry/scope.py PERMISSIONS): who decides sync conflicts, who
# manages phones, who imports a phone's rescue file.
RESOLVERS = {"grid_lead", "committee", "centre"}
DEVICE_KEEPERS = {"committee", "centre"}
CENTRE_ONLY = {"centre"}
HISTORY_KEEPERS = {"committee", "centre"}
# Tasks: who reassigns and moves due dates; community reporters; who sees their figures.
ASSIGNERS = {"grid_lead", "committee", "centre"}
REPORTERS = {"reporter"}
REPORTER_READERS = {"committee", "centre"}
# Exports, and the committees' quality grades (达标): the committee, the centre, the police.
EXPORTERS = GRADE_READERS = {"committee", "centre", "police"}
# Everyone but community reporters (permission "view"): campaign progress of their cells.
VIEWERS = {"coordinator", "grid_lead", "committee", "centre", "police"}
# Review (审核): who decides (grid lead, committee, centre) and who switches it on for a committee.
REVIEWERS = {"grid_lead", "committee", "centre"}
REVIEW_SETTERS = {"committee", "centre"}
# Issue 19: logins (the centre all; a committee its own coordinators and grid leads), the
# audit log (the centre), statistics (police too) and the coordinators' work.
ADMINS = {"committee", "centre"}
STATISTICS = {"grid_lead", "committee", "centre", "police"}
# Issue 18: the committee (and the centre) decides 合法稳定住所 for an applicant.
RESIDENCE_DECIDERS = {"committee", "centre"}
WORK_READERS = {"grid_lead", "committee", "centre"}
# Answers that differ from the two rules on purpose: a reporter's console home would be
# empty, so it sends them to the community page; a committee does not manage the police's
# login, so it does not learn that it exists; a new login's and a reset's temporary password
# is shown on the answer itself, once (no redirect to a page that could show it again).
EXCEPTIONS = {("home", "reporter"): 302, ("user_police", "committee"): 404,
              **{(name, role): 200 for name in ("user_create", "user_reset") for role in ("committee", "centre")}}
USERNAMES = {"coordinator": "coord", "grid_lead": "lead", "committee": "comm", "centre": "centre",
             "police": "police", "reporter": "rep"}

# (name, method, url template, object key or None, writes?: False, True (any writer) or the
# set of roles allowed)
ENDPOINTS = [
    ("home", "GET", "/", None, False),
    ("search", "GET", "/search?q=王", None, False),
    *[(f"cell_{k}", "GET", "/cells/{cell_%s}" % k, k, False) for k in ("A1", "A2", "B1")],
    *[(f"house_{k}", "GET", "/houses/{house_%s}" % k, k, False) for k in ("A1", "A2", "B1", "none")],
    *[(f"person_{k}", "GET", "/persons/{person_%s}" % k, k, False) for k in ("A1", "B1", "none")],
    *[(f"edit_house_{k}", "GET", "/houses/{house_%s}/edit" % k, k, True) for k in ("A1", "B1")],
    *[(f"save_house_{k}", "POST", "/houses/{house_%s}/edit" % k, k, True) for k in ("A1", "B1", "none")],
    *[(f"edit_person_{k}", "GET", "/persons/{person_%s}/edit" % k, k, True) for k in ("A1", "B1")],
    *[(f"save_person_{k}", "POST", "/persons/{person_%s}/edit" % k, k, True) for k in ("A1", "none")],
    # Coverage: every role sees its own cells' figures (and may export those counts).
    ("coverage", "GET", "/coverage", None, False),
    ("coverage_data", "GET", "/coverage/data.json", None, False),
    *[(f"coverage_cell_{k}", "GET", "/coverage/cells/{cell_%s}.json" % k, k, False) for k in ("A1", "A2", "B1")],
    ("coverage_dots", "GET", "/coverage/dots.json?bbox=100,20,140,40", None, False),
    *[(f"coverage_export_{x}", "GET", f"/coverage/export.{x}", None, False) for x in ("csv", "xlsx")],
    ("tasks", "GET", "/tasks", None, False),
    *[(f"close_task_{k}", "POST", "/tasks/{task_%s}/close" % k, k, True) for k in ("A1", "B1", "none")],
    ("tasks_filtered", "GET", "/tasks?assignee=none&overdue=1&escalated=1", None, False),
    *[(f"assign_task_{k}", "POST", "/tasks/{task_%s}/assign" % k, k, ASSIGNERS) for k in ("A1", "B1", "none")],
    # Community reporters: their committee's houses (REPORTABLE), addresses only.
    ("community", "GET", "/community?q=谷阳北路", None, REPORTERS),
    *[(f"community_report_form_{k}", "GET", "/community/houses/{house_%s}/report" % k, k, REPORTERS)
      for k in ("A1", "A2", "B1", "none")],
    *[(f"community_report_{k}", "POST", "/community/houses/{house_%s}/report" % k, k, REPORTERS)
      for k in ("A2", "B1")],
    ("community_reporters", "GET", "/community/reporters", None, REPORTER_READERS),
    *[(f"plate_sheet_{k}", "GET", "/plates/cells/{cell_%s}" % k, k, True) for k in ("A1", "B1")],
    *[(f"plate_assign_{k}", "POST", "/plates/cells/{cell_%s}/assign" % k, k, True) for k in ("A1", "B1")],
    *[(f"plate_{k}", "GET", "/plates/houses/{house_%s}" % k, k, True) for k in ("A1", "B1", "none")],
    *[(f"plate_qr_{k}", "GET", "/plates/houses/{house_%s}/qr.svg" % k, k, True) for k in ("A1", "none")],
    # Sync conflicts: everyone sees those of their cells (police read-only); resolvers decide.
    ("conflicts", "GET", "/conflicts", None, False),
    *[(f"conflict_{k}", "GET", "/conflicts/{conflict_%s}" % k, k, False) for k in ("A1", "B1", "none")],
    *[(f"resolve_conflict_{k}", "POST", "/conflicts/{conflict_%s}/resolve" % k, k, RESOLVERS)
      for k in ("A1", "B1", "none")],
    ("merge_form", "GET", "/conflicts/combine", None, RESOLVERS),
    # Person A1 kept, the keyed person merged into it.
    *[(f"merge_persons_{k}", "POST", "/conflicts/combine", k, RESOLVERS) for k in ("A2", "B1")],
    ("devices", "GET", "/devices", None, DEVICE_KEEPERS),
    *[(f"revoke_device_{k}", "POST", "/devices/{device_%s}/revoke" % k, k, DEVICE_KEEPERS) for k in ("A1", "B1")],
    ("rescue", "GET", "/devices/rescue", None, CENTRE_ONLY),
    # Every record's history: whoever sees the record (the house's also re-plates for HISTORY_KEEPERS).
    *[(f"house_history_{k}", "GET", "/houses/{house_%s}/history" % k, k, False) for k in ("A1", "B1", "none")],
    *[(f"person_history_{k}", "GET", "/persons/{person_%s}/history" % k, k, False) for k in ("A1", "B1", "none")],
    *[(f"unit_{k}", "GET", "/units/{unit_%s}" % k, k, False) for k in ("A1", "B1", "none")],
    *[(f"unit_history_{k}", "GET", "/units/{unit_%s}/history" % k, k, False) for k in ("A1", "B1")],
    *[(f"replate_{k}", "POST", "/houses/{house_%s}/replate" % k, k, HISTORY_KEEPERS) for k in ("A2", "B1")],
    # Reports: every role sees the lists of its cells; filters outside them answer 404.
    ("reports", "GET", "/reports", None, False),
    *[(f"report_{n}", "GET", f"/reports/lists/{n}", None, False)
      for n in ("arrivals", "departures", "flags", "permits", "omissions", "duplicates", "separated")],
    ("report_rule", "GET", "/reports/lists/flags?rule=accuracy", None, False),
    *[(f"report_committee_{k}", "GET", "/reports/lists/arrivals?committee={committee_%s}" % k[0], k, False)
      for k in ("A1", "B1")],
    *[(f"report_cell_{k}", "GET", "/reports/lists/arrivals?cell={cell_%s}" % k, k, False) for k in ("A2", "B1")],
    *[(f"report_export_{x}", "GET", f"/reports/lists/permits.{x}", None, EXPORTERS) for x in ("csv", "xlsx")],
    ("raise_tasks", "POST", "/reports/tasks", None, CENTRE_ONLY),
    *[(f"residence_check_{k}", "POST", "/reports/houses/{house_%s}/residence-check" % k, k, True)
      for k in ("A1", "B1", "none")],
    ("grading", "GET", "/reports/grading", None, GRADE_READERS),
    *[(f"grading_committee_{k}", "GET", "/reports/grading/committees/{committee_%s}" % k[0], k, GRADE_READERS)
      for k in ("A1", "B1")],
    *[(f"grading_drill_{k}", "GET", "/reports/grading/committees/{committee_%s}/drill/violations" % k[0], k,
       GRADE_READERS) for k in ("A1", "B1")],
    *[(f"grading_drill_export_{k}", "GET", "/reports/grading/committees/{committee_%s}/drill/stale.csv" % k[0], k,
       EXPORTERS) for k in ("A1", "B1")],
    *[(f"grading_export_{x}", "GET", f"/reports/grading/export.{x}", None, EXPORTERS) for x in ("csv", "xlsx")],
    *[(f"grading_{x}", "POST", f"/reports/grading/{x}", None, CENTRE_ONLY) for x in ("close", "freeze")],
    # Key-area campaigns: the centre opens, generates, closes and runs the cycle; everyone who
    # views sees the progress of a campaign touching their cells (one in A1, one in B1).
    ("campaigns", "GET", "/campaigns", None, VIEWERS),
    ("campaign_new", "GET", "/campaigns/new", None, CENTRE_ONLY),
    ("campaign_open", "POST", "/campaigns/new", None, CENTRE_ONLY),
    ("campaign_cells", "GET", "/campaigns/cells.json", None, CENTRE_ONLY),
    ("cycle_run", "POST", "/campaigns/cycle/run", None, CENTRE_ONLY),
    *[(f"campaign_{k}", "GET", "/campaigns/{campaign_%s}" % k, k, VIEWERS) for k in ("A1", "B1")],
    *[(f"campaign_export_{k}_{x}", "GET", "/campaigns/{campaign_%s}/export.%s" % (k, x), k, VIEWERS)
      for k in ("A1", "B1") for x in ("csv", "xlsx")],
    *[(f"campaign_{a}_{k}", "POST", "/campaigns/{campaign_%s}/%s" % (k, a), k, CENTRE_ONLY)
      for a in ("generate", "close") for k in ("A1", "B1")],
    *[(f"coverage_campaign_{k}", "GET", "/coverage?campaign={campaign_%s}" % k, k, False) for k in ("A1", "B1")],
    *[(f"coverage_campaign_data_{k}", "GET", "/coverage/data.json?campaign={campaign_%s}" % k, k, False)
      for k in ("A1", "B1")],
    *[(f"coverage_campaign_dots_{k}", "GET", "/coverage/dots.json?bbox=100,20,140,40&campaign={campaign_%s}" % k,
       k, False) for k in ("A1", "B1")],
    # Review: everyone who views sees the reviews of their cells; reviewers decide; whoever may
    # edit the cell resubmits; committees (their own) and the centre switch it on.
    ("reviews", "GET", "/reviews", None, VIEWERS),
    *[(f"reviews_cell_{k}", "GET", "/reviews?status=all&kind=registration&cell={cell_%s}" % k, k, VIEWERS)
      for k in ("A2", "B1")],
    *[(f"review_{a}_{k}", "POST", "/reviews/{review_%s}/%s" % (k, a), k, REVIEWERS)
      for a in ("approve", "return") for k in ("A1", "B1", "none")],
    *[(f"review_resubmit_{k}", "POST", "/reviews/{review_%s}/resubmit" % k, k, True) for k in ("A1", "B1", "none")],
    *[(f"review_setting_{k}", "POST", "/reviews/committees/{committee_%s}/setting" % k[0], k, REVIEW_SETTERS)
      for k in ("A1", "B1")],
    # Logins: the coordinator of A1 belongs to committee A; the police's login to no committee.
    ("users", "GET", "/admin/users?status=all&role=coordinator", None, ADMINS),
    ("user_new", "GET", "/admin/users/new", None, ADMINS),
    ("user_create", "POST", "/admin/users/new", None, ADMINS),
    ("user_edit", "GET", "/admin/users/{user_coordinator}", None, ADMINS),
    ("user_police", "GET", "/admin/users/{user_police}", None, ADMINS),
    ("user_save", "POST", "/admin/users/{user_coordinator}", None, ADMINS),
    ("user_cells", "GET", "/admin/users/{user_coordinator}/cells", None, ADMINS),
    ("user_cells_data", "GET", "/admin/users/{user_coordinator}/cells.json", None, ADMINS),
    ("user_cells_save", "POST", "/admin/users/{user_coordinator}/cells", None, ADMINS),
    ("user_deactivate", "POST", "/admin/users/{user_coordinator}/deactivate", None, ADMINS),
    ("user_reset", "POST", "/admin/users/{user_coordinator}/reset-password", None, ADMINS),
    *[(f"cell_people_{k}", "GET", "/admin/cells/{cell_%s}" % k, k, ADMINS) for k in ("A1", "B1")],
    *[(f"cell_people_save_{k}", "POST", "/admin/cells/{cell_%s}" % k, k, ADMINS) for k in ("A1", "B1")],
    # The audit log and a person's access report: the centre.
    ("audit", "GET", "/audit?action=view_person", None, CENTRE_ONLY),
    *[(f"audit_export_{x}", "GET", f"/audit/export.{x}", None, CENTRE_ONLY) for x in ("csv", "xlsx")],
    *[(f"audit_person_{k}", "GET", "/audit/persons/{person_%s}" % k, k, CENTRE_ONLY) for k in ("A1", "B1")],
    # Statistics of one's cells; a committee or cell outside them answers 404.
    ("statistics", "GET", "/statistics", None, STATISTICS),
    *[(f"statistics_cell_{k}", "GET", "/statistics?cell={cell_%s}" % k, k, STATISTICS) for k in ("A2", "B1")],
    ("statistics_export", "GET", "/statistics/export/pyramid.xlsx", None, STATISTICS),
    ("statistics_persons", "GET", "/statistics/persons?chart=category&key=migrant", None, STATISTICS),
    *[(f"statistics_persons_{k}", "GET", "/statistics/persons?chart=sex&key=M&committee={committee_%s}" % k[0], k,
       STATISTICS) for k in ("A1", "B1")],
    # The coordinators' work and the year's roll-up.
    ("coordinators", "GET", "/reports/coordinators", None, WORK_READERS),
    ("coordinators_export", "GET", "/reports/coordinators.csv", None, WORK_READERS),
    ("year", "GET", "/reports/year/2026", None, WORK_READERS),
    ("year_export", "GET", "/reports/year/2026.xlsx", None, WORK_READERS),
    # Issue 18: the units' register, endorsements, 合法稳定住所 decisions and their certificates.
    ("units", "GET", "/units?q=单位", None, VIEWERS),
    *[(f"units_cell_{k}", "GET", "/units?cell={cell_%s}" % k, k, VIEWERS) for k in ("A2", "B1")],
    *[(f"record_endorsement_{k}", "POST", "/persons/{person_%s}/endorsement" % k, k, True) for k in ("A1", "B1", "none")],
    *[(f"residence_decision_{k}", "POST", "/houses/{house_%s}/residence-decision" % k, k, RESIDENCE_DECIDERS)
      for k in ("A1", "B1", "none")],
    *[(f"certificate_{k}", "GET", "/residence-certificates/{certificate_%s}" % k, k, False) for k in ("A1", "B1", "none")],
]


@pytest.fixture(autouse=True)
def _reporter(area, db_session):  # type: ignore[no-untyped-def]
    """A community reporter of committee A (the `area` fixture has one user of every other role)."""
    from tests import factories as f

    area.users["reporter"] = f.user(db_session, "rep", "reporter", committee_id=area.committees["A"].id)
    db_session.commit()


@pytest.fixture(autouse=True)
def _plates_and_tasks(area, db_session):  # type: ignore[no-untyped-def]
    """Every house plated and one open task per house, for the plate and task endpoints."""
    from webapp.registry.plates import assign_plates
    from webapp.registry.tasks import create_task

    assign_plates(db_session)
    area.tasks = {k: create_task(db_session, h, "moved_in", "线索") for k, h in area.houses.items()}
    db_session.commit()


@pytest.fixture(autouse=True)
def _conflicts_and_devices(area, db_session):  # type: ignore[no-untyped-def]
    """A phone each in A1 and B1; conflicts in A1 (both sides changed a field), and in B1 and
    the cell-less house (edits outside the phone's cells), made by real pushes."""
    from tests import factories as f
    from tests.phones import Phone

    coord_b = f.user(db_session, "coordb", "coordinator")
    area.cells["B1"].coordinators.append(coord_b)
    area.houses["A1"].note = "中心改过"
    db_session.commit()
    phone = Phone(db_session, area.users["coordinator"])
    area.devices = {"A1": phone.device, "B1": Phone(db_session, coord_b).device}
    area.conflicts = {"A1": phone.conflict("house", "update", area.houses["A1"].id, base_version=1,
                                           fields={"note": "手机改的"}, base={"note": None})}
    for key in ("B1", "none"):
        area.conflicts[key] = phone.conflict("house", "update", area.houses[key].id, base_version=1,
                                             fields={"use": "rented"}, base={"use": "owner_occupied"})


@pytest.fixture(autouse=True)
def _campaigns(area, db_session):  # type: ignore[no-untyped-def]
    """A key-area campaign over cell A1 and one over cell B1."""
    from datetime import date

    from webapp.oversight.tasks.campaigns import open_campaign

    area.campaigns = {k: open_campaign(db_session, name=f"排查{k}", starts_on=date(2026, 1, 1), due_on=date(2030, 1, 1),
                                       by_user_id=None, cell_ids={area.cells[k].id})[0] for k in ("A1", "B1")}
    db_session.commit()


@pytest.fixture(autouse=True)
def _units_and_staff(area, db_session):  # type: ignore[no-untyped-def]
    """A unit at the houses A1, B1 and the cell-less one; the coordinator belongs to committee A."""
    from webapp.models import Unit

    area.units = {}
    for key in ("A1", "B1", "none"):
        area.units[key] = Unit(name=f"单位{key}", house_id=area.houses[key].id, contacts=[{"name": "联系人", "phone": "13800000000"}])
        db_session.add(area.units[key])
    area.users["coordinator"].committee_id = area.committees["A"].id
    db_session.commit()


@pytest.fixture(autouse=True)
def _permits_and_certificates(area, db_session):  # type: ignore[no-untyped-def]
    """Everyone holds a residence permit; a certificate was issued at A1, B1 and the cell-less house."""
    from datetime import date

    from webapp.models import ResidenceCheck

    area.certificates = {}
    for key, person in area.persons.items():
        person.permit_issued, person.permit_expiry = date(2025, 1, 10), date(2028, 1, 10)
        area.certificates[key] = ResidenceCheck(house_id=area.houses[key].id, person_id=person.id, result="stable",
                                                basis="owned", certificate_no=f"20260000000{len(area.certificates)}",
                                                check_code="ABCDEF")
        db_session.add(area.certificates[key])
    db_session.commit()


@pytest.fixture(autouse=True)
def _reviews(area, db_session):  # type: ignore[no-untyped-def]
    """A pending review of the registration in A1, B1 and the cell-less house."""
    from webapp.models import Review

    area.reviews = {}
    for key in ("A1", "B1", "none"):
        house, person = area.houses[key], area.persons[key]
        area.reviews[key] = Review(house_id=house.id, cell_id=house.cell_id, residency_id=person.residencies[0].id,
                                   person_id=person.id, kind="registration", submitted_by_id=area.users["coordinator"].id)
        db_session.add(area.reviews[key])
    db_session.commit()


def expected(role: str, obj: str | None, writes: bool | set[str], method: str) -> int:
    if role == "anonymous":
        return 302  # to the login page
    if writes and role not in (WRITERS if writes is True else writes):
        return 403
    if obj is not None and obj not in (REPORTABLE if writes is REPORTERS else VISIBLE[role]):
        return 404
    return 302 if method == "POST" else 200


def _url(template: str, area) -> str:  # type: ignore[no-untyped-def]
    values = {f"house_{k}": v.id for k, v in area.houses.items()}
    values |= {f"person_{k}": v.id for k, v in area.persons.items()}
    values |= {f"cell_{k}": v.id for k, v in area.cells.items()}
    values |= {f"conflict_{k}": v for k, v in area.conflicts.items()}
    values |= {f"device_{k}": v.id for k, v in area.devices.items()}
    values |= {f"task_{k}": v.id for k, v in area.tasks.items()}
    values |= {f"committee_{k}": v.id for k, v in area.committees.items()}
    values |= {f"campaign_{k}": v.id for k, v in area.campaigns.items()}
    values |= {f"review_{k}": v.id for k, v in area.reviews.items()}
    values |= {f"unit_{k}": v.id for k, v in area.units.items()}
    values |= {f"user_{k}": v.id for k, v in area.users.items()}
    values |= {f"certificate_{k}": v.id for k, v in area.certificates.items()}
    return template.format(**values)


def _form(name: str, area, obj: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    if name in ("user_create", "user_save"):
        return {"username": "newcoord", "display_name": "新协管员", "role": "coordinator",
                "committee": str(area.committees["A"].id), "phone": ""}
    if name == "user_cells_save":
        return {"cells": str(area.cells["A1"].id)}
    if name in ("user_deactivate", "user_reset"):
        return {}
    if name.startswith("cell_people_save"):
        # Committee A's coordinator for its cell A1; for B1 none (A's would be refused there).
        return {"lead": "", **({"coordinators": str(area.users["coordinator"].id)} if obj == "A1" else {})}
    if name.startswith("close_task"):
        return {"version": str(area.tasks[obj].version), "status": "done", "outcome": "已核实"}
    if name.startswith("plate_assign"):
        return {}
    if name.startswith("assign_task"):
        return {"version": str(area.tasks[obj].version), "assignee": "", "due_on": "2030-01-01"}
    if name.startswith("community_report"):
        return {"kind": "moved_in", "reporting_as": "volunteer", "text": ""}
    if name.startswith("resolve_conflict"):
        return {"version": str(area.houses[obj].version), "choice__note": "keep", "choice__use": "keep"}
    if name.startswith("merge_persons"):
        return {"record_type": "person", "survivor": str(area.persons["A1"].id), "loser": str(area.persons[obj].id)}
    if name.startswith("revoke_device"):
        return {}
    if name.startswith("replate"):
        return {"r-reason": "丢失"}
    if name.startswith("residence_check"):
        return {"result": "stable", "note": "已核实"}
    if name.startswith("record_endorsement"):
        return {"endorsed_on": "2026-01-10"}
    if name.startswith("residence_decision"):
        return {"person": str(area.persons[obj].id), "result": "refused", "note": "未实际居住"}
    if name == "raise_tasks":
        return {"rule": "duplicates"}
    if name.startswith(("campaign_generate", "campaign_close")) or name == "cycle_run":
        return {}
    if name == "campaign_open":
        return {"name": "新排查", "starts_on": "2026-01-01", "due_on": "2030-01-01", "area_kind": "cells",
                "cells": str(area.cells["A2"].id)}
    if name.startswith("review_setting"):
        return {"version": str(area.committees[obj[0]].version), "review_required": "y"}
    if name.startswith("review_"):
        return {"version": str(area.reviews[obj].version), "reason": "请补充租赁合同"}
    if name.startswith("grading_"):
        return {"cycle": ""}  # none chosen: the centre is sent back with a message
    if name.startswith("save_house"):
        h = area.houses[obj]
        return {"version": str(h.version), "road": h.road, "number": h.number, "building": "2",
                "use": "rented", "room": "", "unit": "", "floor": "", "floor_area": "",
                "living_area": "", "lon": "", "lat": "", "note": ""}
    p = area.persons[obj]
    return {"version": str(p.version), "name": p.name, "id_type": "resident", "id_number": p.id_number,
            "phone": "13900001111", "category": "migrant", "hukou_address": "", "permit_number": "",
            "permit_expiry": "", "note": ""}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_scope_matrix(client, area, role: str, endpoint) -> None:  # type: ignore[no-untyped-def]
    name, method, template, obj, writes = endpoint
    if role != "anonymous":
        assert login(client, USERNAMES[role]).status_code == 302
    url = _url(template, area)
    if method == "GET":
        response = client.get(url)
    else:
        data = _form(name, area, obj)
        data["csrf_token"] = csrf_token(client, "/login" if role == "anonymous" else "/")
        response = client.post(url, data=data)
    want = EXCEPTIONS.get((name, role)) or expected(role, obj, writes, method)
    assert response.status_code == want, response.get_data(as_text=True)[:400]


@pytest.mark.parametrize("role", ROLES[1:])
def test_search_never_leaks_out_of_scope(client, area, role: str) -> None:  # type: ignore[no-untyped-def]
    login(client, USERNAMES[role])
    page = client.get("/search?q=王").get_data(as_text=True)
    for key, person in area.persons.items():
        assert (person.name in page) == (key in VISIBLE[role]), key


# The API: problem+json, so an anonymous caller gets 401 rather than the pages' redirect to
# the login form. The walking order (/api/walk) also answers a console login; push, pull and
# a phone's own revocation answer a device token only (a console session there is 401).
# Two callers besides the roles: a revoked phone (403 `device_revoked`, except that asking
# to revoke itself again is done: 200) and a forged token (401 `device_unknown`).
API_ENDPOINTS = [
    ("walk", "GET", "/api/walk", None, False),
    *[(f"walk_cell_{k}", "GET", "/api/walk?cell={cell_%s}" % k, k, False) for k in ("A1", "A2", "B1")],
    ("pull", "GET", "/api/sync/pull?protocol=1", None, False),
    ("push", "POST", "/api/sync/push", None, False),
    ("revoke_self", "POST", "/api/devices/self/revoke", None, False),
]
DEVICE_ONLY = {"pull", "push", "revoke_self"}
API_CALLERS = [*ROLES, "revoked_device", "forged_token"]
API_EXCEPTIONS = {("revoke_self", "revoked_device"): 200}


def _api_expected(caller: str, name: str, obj: str | None, writes: bool | set[str], method: str) -> tuple[int, str | None]:
    if (name, caller) in API_EXCEPTIONS:
        return API_EXCEPTIONS[(name, caller)], None
    if caller == "revoked_device":
        return 403, "device_revoked"
    if caller == "forged_token" or caller == "anonymous" or name in DEVICE_ONLY:
        return 401, "device_unknown"
    return expected(caller, obj, writes, method), None


@pytest.mark.parametrize("caller", API_CALLERS)
@pytest.mark.parametrize("endpoint", API_ENDPOINTS, ids=[e[0] for e in API_ENDPOINTS])
def test_scope_matrix_api(client, area, db_session, caller: str, endpoint) -> None:  # type: ignore[no-untyped-def]
    from sync import devices
    from tests.phones import Phone

    name, method, template, obj, writes = endpoint
    headers = {}
    if caller == "revoked_device":
        phone = Phone(db_session, area.users["coordinator"], "revoked")
        devices.revoke(db_session, phone.device, area.users["centre"].id)
        db_session.commit()
        headers["Authorization"] = f"Bearer {phone.token}"
    elif caller == "forged_token":
        headers["Authorization"] = "Bearer " + "A" * 43  # the shape of a real token
    elif caller != "anonymous":
        assert login(client, USERNAMES[caller]).status_code == 302
    url = _url(template, area)
    if method == "GET":
        response = client.get(url, headers=headers)
    else:
        response = client.post(url, headers=headers, json={"protocol": 1, "mutations": []} if name == "push" else None)
    status, code = _api_expected(caller, name, obj, writes, method)
    assert response.status_code == status, response.get_data(as_text=True)[:400]
    if status >= 400:
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["code"] == (code or response.get_json()["code"])


def test_every_authenticated_api_operation_is_in_the_matrix() -> None:
    """An endpoint added to the OpenAPI document with a device token must get a matrix row."""
    from webapp.api.openapi import document

    secured = {(path, method.upper()) for path, item in document()["paths"].items()
               for method, operation in item.items() if operation.get("security")}
    rows = {(template.split("?")[0], method) for _, method, template, _, _ in API_ENDPOINTS}
    assert secured <= rows, secured - rows

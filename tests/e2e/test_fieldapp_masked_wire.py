"""The pull's second shape (issue 15): for roles that see a field masked (grid leads, committees)
a person row has no `id_number`/`phone`/… key but `<field>_masked` with the masked text, and a
hidden field has no key at all. The phone shows masked values as they came, searches only the
digits a mask shows, never takes a masked value for a number, and an edit sends neither a
masked value back nor a `base` for a field it never had. The server here sends the coordinator's
shape; the test rewrites each pull into the masked one."""
from __future__ import annotations

import gzip
import json
from typing import Any

from playwright.sync_api import Page, Request, Route, expect

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from tests.e2e.test_fieldapp_at_rest import assert_nothing_in_clear, full_residents
from tests.e2e.test_fieldapp_sealed_search import found

HIDDEN = ("hukou_address", "hukou_road", "hukou_number", "hukou_building", "hukou_room", "note")


def _mask(p: dict) -> dict:
    out = {k: v for k, v in p.items() if k not in HIDDEN}
    number, phone = out.pop("id_number", None), out.pop("phone", None)
    birth, region, permit = out.pop("birth_date", None), out.pop("hukou_region", None), out.pop("permit_number", None)
    out["id_number_masked"] = number[:3] + "*" * (len(number) - 7) + number[-4:] if number else None
    out["phone_masked"] = phone[:3] + "****" + phone[-4:] if phone else None
    out["birth_date_masked"] = birth[:4] if birth else None
    out["hukou_region_masked"] = region[:2] if region else None
    out["permit_number_masked"] = "*" * (len(permit) - 4) + permit[-4:] if permit else None
    return out


def _masked_pull(route: Route) -> None:
    """Protocol 2 pages hold each table column by column: rows out, masked, columns back."""
    answer = route.fetch()
    body = answer.json()
    columns = body["changes"].get("person")
    if columns:
        rows = [_mask(dict(zip(columns, values, strict=True))) for values in zip(*columns.values(), strict=True)]
        body["changes"]["person"] = {key: [row[key] for row in rows] for key in rows[0]}
    route.fulfill(response=answer, body=json.dumps(body), headers={**answer.headers, "content-encoding": "identity"})


def _pushed(request: Request) -> dict[str, Any]:
    """A push's body as JSON: protocol 2 sends it gzip-compressed."""
    raw = request.post_data_buffer or b"{}"
    return json.loads(gzip.decompress(raw) if request.headers.get("content-encoding") == "gzip" else raw)


def test_masked_rows_are_shown_as_they_came_and_never_sent_back(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    residents = full_residents(live_server, area.houses[0], area.tag)
    page.context.route("**/api/sync/pull**", _masked_pull)
    fa.app_login(page, area.username)
    assert_nothing_in_clear(page, [], live_server)

    first = residents[0]
    masked_id = first["id_number"][:3] + "*" * 11 + first["id_number"][-4:]
    fa.go(page, f"#/house/{area.houses[0]}")
    row = page.locator("#occupants li", has_text=first["name"])
    expect(row).to_contain_text(masked_id)
    expect(row).to_contain_text(f"{first['phone'][:3]}****{first['phone'][-4:]}")
    expect(row).to_contain_text(first["birth_date"][:4])  # the year, as the server masked it
    expect(row).not_to_contain_text(first["birth_date"])

    # Search: the digits a mask shows, no more.
    assert first["name"] in found(page, first["id_number"][-4:])
    assert first["name"] not in found(page, first["id_number"][-6:])
    assert first["name"] in found(page, first["phone"][-4:])

    # The edit form shows masked fields read-only and checks nothing in them.
    fa.go(page, f"#/house/{area.houses[0]}/person/{first['id']}/edit")
    expect(page.locator("[name=id_number]")).to_have_count(0)
    expect(page.locator("[name=phone]")).to_have_count(0)
    expect(page.locator("[name=permit_number]")).to_have_count(0)
    expect(page.locator("[data-masked=id_number]")).to_contain_text(masked_id)
    expect(page.locator("[data-masked=phone]")).to_contain_text(first["phone"][-4:])
    new_name = f"{first['name']}改"
    page.fill("[name=name]", new_name)
    pushed: list[dict] = []
    page.context.route("**/api/sync/push", lambda r: (pushed.append(_pushed(r.request)), r.continue_()))
    page.click("button[type=submit]")
    fa.wait(page, "location.hash === arg", f"#/house/{area.houses[0]}")
    fa.sync(page)
    mutations = [m for body in pushed for m in body["mutations"]]
    assert [(m["fields"], m["base"]) for m in mutations] == [({"name": new_name}, {"name": first["name"]})]
    assert fa.outbox(page) == []
    page.context.unroute("**/api/sync/push")
    page.context.unroute("**/api/sync/pull**")

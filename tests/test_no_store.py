"""Cache-Control: no-store on every answer that can show personal data (issue 15, point 10).

A matrix over the scope matrix's pages (the same records: `tests/test_scope_matrix.py`'s
fixtures are used here too), each opened by a role that sees it; the API, for a console login
and a device token; and what must stay cacheable: static files, /vendor/, the field app's shell.
"""
from __future__ import annotations

import pytest

from tests.conftest import login
from tests.test_scope_matrix import (  # noqa: F401  (its autouse fixtures: the same records)
    ENDPOINTS,
    EXCEPTIONS,
    ROLES,
    USERNAMES,
    _campaigns,
    _conflicts_and_devices,
    _permits_and_certificates,
    _plates_and_tasks,
    _reporter,
    _reviews,
    _units_and_staff,
    _url,
    expected,
)
from webapp.vendor.files import installed_version

pytestmark = pytest.mark.slow  # every page's caching headers: `make test`, not `make check`


def a_role_that_sees(name: str, obj: str | None, writes: bool | set[str]) -> str | None:
    return next((r for r in ("centre", *ROLES[1:])
                 if (EXCEPTIONS.get((name, r)) or expected(r, obj, writes, "GET")) == 200), None)


# Every page of the scope matrix that some role may open (the rest answer 404 to everyone).
PAGES = [e for e in ENDPOINTS if e[1] == "GET" and a_role_that_sees(e[0], e[3], e[4])]
# Pages and answers the scope matrix does not list (no object of a cell behind them).
MORE = [("extract", "/extract/"), ("extract_export", "/extract/export/persons.csv"),
        ("account", "/account"), ("reset_password_form", "/admin/users/{coordinator}/reset-password"),
        ("api_walk", "/api/walk"), ("api_openapi", "/api/openapi.json"), ("not_found", "/houses/nothing")]
# What a phone asks with its device token (no cookie).
DEVICE_API = [("/api/sync/pull?protocol=1", 200), ("/api/walk", 200), ("/api/nothing", 404)]
# Answers that carry no personal data and must stay cacheable, logged in or not.
CACHEABLE = ["/static/css/console.css", "/static/js/area-draw.js", "/static/pwa/app.js", "/favicon.ico",
             "/api/rescue-key", f"/vendor/leaflet/{installed_version('leaflet')}/leaflet.js"]
# The field app's shell: the service worker precaches it; it revalidates (no-cache), never no-store.
SHELL = ["/app/", "/app/manifest.webmanifest", "/app/area-codes.json", "/app/regions.json", "/sw.js", "/app/qr.svg"]


@pytest.mark.parametrize("endpoint", PAGES, ids=[p[0] for p in PAGES])
def test_every_page_is_no_store(client, area, endpoint) -> None:  # type: ignore[no-untyped-def]
    name, _method, template, obj, writes = endpoint
    role = a_role_that_sees(name, obj, writes)
    assert role is not None
    login(client, USERNAMES[role])
    response = client.get(_url(template, area))
    assert response.status_code == 200, role
    assert response.headers.get("Cache-Control") == "no-store", (role, response.headers.get("Cache-Control"))


@pytest.mark.parametrize(("name", "template"), MORE, ids=[m[0] for m in MORE])
def test_other_answers_to_a_signed_in_user_are_no_store(client, area, name, template) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    response = client.get(template.format(coordinator=area.users["coordinator"].id))
    assert response.status_code == (404 if name == "not_found" else 200)
    assert response.headers.get("Cache-Control") == "no-store"


def test_api_answers_to_a_device_are_no_store(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    from tests.phones import Phone

    phone = Phone(db_session, area.users["coordinator"], "no-store phone")
    db_session.commit()
    headers = {"Authorization": f"Bearer {phone.token}"}
    for url, status in DEVICE_API:
        response = client.get(url, headers=headers)
        assert response.status_code == status, url
        assert response.headers.get("Cache-Control") == "no-store", url


@pytest.mark.parametrize("signed_in", [False, True])
def test_static_vendor_and_the_field_app_shell_stay_cacheable(client, area, signed_in) -> None:  # type: ignore[no-untyped-def]
    if signed_in:
        login(client, "centre")
    for url in CACHEABLE:
        status, cache_control = _answer(client, url)
        assert status == 200, url
        assert "no-store" not in cache_control, url
    assert "immutable" in _answer(client, CACHEABLE[-1])[1]
    for url in SHELL:
        assert _answer(client, url) == (200, "no-cache"), url


def _answer(client, url: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    with client.get(url) as response:  # a file's answer holds the file open until closed
        return response.status_code, response.headers.get("Cache-Control", "")


def test_every_get_route_is_in_this_matrix(app, area) -> None:  # type: ignore[no-untyped-def]
    """A new page must be added here (or be a cacheable kind): the rule covers it, this checks it."""
    adapter = app.url_map.bind("localhost")
    urls = [_url(p[2], area) for p in PAGES] + [m[1].format(coordinator=1) for m in MORE]
    urls += [u for u, status in DEVICE_API if status == 200] + CACHEABLE + SHELL
    covered = {adapter.match(u.split("?")[0], method="GET")[0] for u in urls if u != "/houses/nothing"}
    # The login form and the public plate page: for anyone, and no personal data.
    covered |= {"auth.login", "public.house"}
    # The combine page's old address (/conflicts/merge, issue 20): a redirect, never a page.
    covered |= {"conflicts.merge"}
    # The queue's old addresses (/tips..., issue 20): a redirect to /tasks..., never a page.
    covered |= {"tasks.old_address"}
    routes = {r.endpoint for r in app.url_map.iter_rules() if "GET" in (r.methods or ())}
    assert routes <= covered, routes - covered


def test_anonymous_pages_are_unaffected(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    from tests.plating import give_plate

    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    # The public plate page keeps its own no-store (a per-visitor form token), as before.
    response = client.get(f"/h/{give_plate(db_session, area.houses['A1'])}")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") == "no-store"

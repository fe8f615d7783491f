"""The combine page's "Show both" posts (webapp/templates/conflicts/combine.html): ID numbers
typed to find the two records are in no address (history, referrer, proxy logs), and the
CSRF token in none. The answer is a 303 to a GET carrying the fields sealed to the user
(webapp/base/sealed_query.py); the merge itself posts as before."""
from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from tests.conftest import CSRF_RE, login, logout
from webapp.base import sealed_query
from webapp.models import AuditEntry, Person

EXPIRED = {"en": "This comparison has expired or was made in another account: type the numbers again.",
           "zh-CN": "此对照已过期，或来自另一个账户：请重新输入号码。"}


def _leaks(text: str, *numbers: str) -> list[str]:
    """Each number, or 6 of its digits in a row, found in `text`."""
    text = unquote(text)
    found = []
    for number in numbers:
        digits = number.rstrip("Xx")
        found += [digits[i:i + 6] for i in range(len(digits) - 5) if digits[i:i + 6] in text]
    return found


def _addresses(page: str) -> list[str]:
    return re.findall(r'(?:href|action|formaction|src)="([^"]*)"', page)


def _form(client) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    page = client.get("/conflicts/combine").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/conflicts/combine".*?</form>', page, re.S)
    assert form, "the combine form"
    token = CSRF_RE.search(form.group(0))
    assert token
    return form.group(0), token.group(1)


def _show(client, **fields: str):  # type: ignore[no-untyped-def]
    _form_html, token = _form(client)
    return client.post("/conflicts/combine", data={"csrf_token": token, "show": "1", **fields})


def test_show_both_posts_and_the_numbers_stay_out_of_every_address(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    keep, lose = area.persons["A1"], area.persons["A2"]
    login(client, "lead")
    form, _token = _form(client)
    assert "formmethod" not in form  # no button turns the form into a GET
    assert re.search(r'<button type="submit" name="show" value="1">', form)
    answer = _show(client, record_type="person", survivor=keep.id_number, loser=lose.id_number)
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert re.fullmatch(r"/conflicts/combine\?s=[^&]+", location), location
    assert not _leaks(location, keep.id_number, lose.id_number) and "csrf" not in location
    page = client.get(location)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert keep.name in text and lose.name in text  # the comparison, from what was typed
    assert f'value="{keep.id_number}"' in text  # the typed numbers stay in the boxes, on the page only
    for address in _addresses(text):
        assert not _leaks(address, keep.id_number, lose.id_number) and "csrf" not in address, address
    db_session.rollback()
    logged = db_session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "search")).one()
    assert logged["door"] == "merge" and set(logged["persons"]) == {str(keep.id), str(lose.id)}
    assert keep.id_number not in str(logged)


def test_reload_repeats_the_get_and_the_merge_posts_from_the_page(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    keep, lose = area.persons["A1"], area.persons["A2"]
    login(client, "lead")
    location = _show(client, record_type="person", survivor=keep.id_number, loser=lose.id_number).headers["Location"]
    for _ in range(2):
        page = client.get(location)
        assert page.status_code == 200 and lose.name in page.get_data(as_text=True)
    text = page.get_data(as_text=True)
    token = CSRF_RE.search(text)
    assert token
    merged = client.post("/conflicts/combine", data={"csrf_token": token.group(1), "record_type": "person",
                                                     "survivor": keep.id_number, "loser": lose.id_number})
    assert merged.status_code == 302 and merged.headers["Location"].endswith(f"/persons/{keep.id}")
    db_session.rollback()
    assert db_session.get(Person, lose.id).deleted_at is not None  # type: ignore[union-attr]


def test_the_conflict_pages_links_by_record_id_still_open_the_comparison(client, area) -> None:  # type: ignore[no-untyped-def]
    keep, lose = area.persons["A1"], area.persons["A2"]
    login(client, "lead")
    page = client.get("/conflicts/combine", query_string={"record_type": "person", "survivor": str(keep.id),
                                                          "loser": str(lose.id)})
    assert page.status_code == 200 and keep.name in page.get_data(as_text=True)


def test_show_without_the_csrf_token_is_refused(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    login(client, "lead")
    answer = client.post("/conflicts/combine", data={"show": "1", "record_type": "person",
                                                     "survivor": area.persons["A1"].id_number})
    assert answer.status_code == 400


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_another_accounts_or_another_pages_token_opens_nothing(client, area, language) -> None:  # type: ignore[no-untyped-def]
    keep = area.persons["A1"]
    login(client, "lead")
    location = _show(client, record_type="person", survivor=keep.id_number).headers["Location"]
    logout(client)
    login(client, "centre")
    page = client.get(location, headers={"Accept-Language": language})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and keep.name not in text and EXPIRED[language] in text
    # The search's token for the same user does not open here either.
    search = sealed_query.seal(("test-secret",), area.users["centre"].id, keep.id_number)
    text = client.get("/conflicts/combine", query_string={"s": search},
                      headers={"Accept-Language": language}).get_data(as_text=True)
    assert keep.name not in text and EXPIRED[language] in text


def test_what_is_sealed_is_held_to_the_forms_length(client, area) -> None:  # type: ignore[no-untyped-def]
    login(client, "lead")
    answer = _show(client, record_type="person", survivor="1" * 5000, loser="x")
    assert answer.status_code == 303 and len(answer.headers["Location"]) < 600

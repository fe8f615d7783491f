"""The console's search box posts (webapp/templates/base.html): what is typed into it, an ID or
phone number, is in no address (the browser's history, the next page's referrer, the logs on
the way: tests/test_serve.py reads gunicorn's access log). The answer is a 303 to a GET whose
`s` holds the query sealed to the user (webapp/base/sealed_query.py): Back and reload repeat
that GET, with no "Confirm form resubmission"."""
from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import itsdangerous
import pytest
from sqlalchemy import select

from tests.conftest import login
from webapp.base import sealed_query
from webapp.models import AuditEntry

REFUSED = {"en": "This search has expired or was made in another account: type it again.",
           "zh-CN": "此搜索已过期，或来自另一个账户：请重新输入。"}


def _box(page: str) -> str:
    box = re.search(r'<form class="search"[^>]*>.*?</form>', page, re.S)
    assert box, "the header has the search box"
    return box.group(0)


def _search(client, query: str):  # type: ignore[no-untyped-def]
    """The box's POST, as the header's form sends it."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', _box(client.get("/").get_data(as_text=True)))
    assert token
    return client.post("/search", data={"q": query, "csrf_token": token.group(1)})


def _sealed_address(client, query: str) -> str:  # type: ignore[no-untyped-def]
    answer = _search(client, query)
    assert answer.status_code == 303
    assert re.fullmatch(r"/search\?s=[^&]+", answer.headers["Location"])
    return str(answer.headers["Location"])


def test_the_search_box_posts_and_finds_by_a_typed_number(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    box = _box(client.get("/").get_data(as_text=True))
    assert 'method="post"' in box
    number = area.persons["A1"].id_number
    answer = _search(client, number)
    # Post/redirect/get: the answer to the form is a 303, the page is a GET.
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert location.startswith("/search?s=")
    digits = number.rstrip("X")
    assert not any(digits[i:i + 6] in location for i in range(len(digits) - 5))  # not in clear, not in part
    page = client.get(location)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "王A1" in text
    assert page.headers["Cache-Control"] == "no-store"
    assert f'value="{number}"' in _box(text)  # what was typed stays in the box, on this page only
    db_session.rollback()
    logged = db_session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "search")).one()
    assert number not in str(logged) and logged["persons"] == [str(area.persons["A1"].id)]
    assert logged["q"] == "110***********002X"


def test_reload_repeats_the_get(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    """Back or reload asks for the same address again: no form to send twice."""
    login(client, "centre")
    location = _sealed_address(client, area.persons["A1"].id_number)
    for _ in range(2):
        page = client.get(location)
        assert page.status_code == 200 and "王A1" in page.get_data(as_text=True)
    db_session.rollback()
    assert len(db_session.scalars(select(AuditEntry.id).where(AuditEntry.action == "search")).all()) == 2


def test_an_empty_box_leads_to_the_empty_search_page(client, area) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    answer = _search(client, "   ")
    assert answer.status_code == 303 and answer.headers["Location"] == "/search"
    assert client.get("/search").status_code == 200


def test_a_plain_get_still_searches(client, area) -> None:  # type: ignore[no-untyped-def]
    """A link or a bookmark by name: /search?q= reads as before, the box shows it."""
    login(client, "centre")
    page = client.get("/search?q=王A1").get_data(as_text=True)
    assert "/persons/" in page and 'value="王A1"' in _box(page)


def _refused(page) -> bool:  # type: ignore[no-untyped-def]
    text = page.get_data(as_text=True)
    return page.status_code in (200, 400) and any(m in text for m in REFUSED.values()) and "王A1" not in text


def test_another_users_address_is_refused(app, client, area) -> None:  # type: ignore[no-untyped-def]
    """A sealed address copied to another account (a shared screen, a chat) does not search
    there: the police, who may see 王A1 by their own search, are shown nothing from it."""
    login(client, "centre")
    location = _sealed_address(client, "王A1")
    other = app.test_client()
    login(other, "police")
    assert "王A1" in other.get("/search?q=王A1").get_data(as_text=True)
    for language, message in REFUSED.items():
        page = other.get(location, headers={"Accept-Language": language})
        assert _refused(page) and message in page.get_data(as_text=True)
        assert 'value=""' in _box(page.get_data(as_text=True))


@pytest.mark.parametrize("change", [
    lambda s: s[:-6] + ("A" if s[-6] != "A" else "B") + s[-5:],  # a character of the ciphertext
    lambda s: s[:40],  # cut short
    lambda s: "not-a-token",
    lambda s: "",
])
def test_an_altered_address_is_refused(client, area, change) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    token = parse_qs(urlsplit(_sealed_address(client, "王A1")).query)["s"][0]
    assert "王A1" in client.get("/search", query_string={"s": token}).get_data(as_text=True)
    assert _refused(client.get("/search", query_string={"s": change(token)}))


def test_an_address_older_than_the_session_lifetime_is_refused(app, client, area,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    lifetime = app.permanent_session_lifetime
    with monkeypatch.context() as past:
        # Only the seal's clock goes back: the session's stays now.
        past.setattr(sealed_query, "utcnow", lambda: datetime.now(timezone.utc) - lifetime - timedelta(minutes=1))
        old = _sealed_address(client, "王A1")
    assert _refused(client.get(old))
    with monkeypatch.context() as past:
        past.setattr(sealed_query, "utcnow", lambda: datetime.now(timezone.utc) - lifetime + timedelta(minutes=1))
        recent = _sealed_address(client, "王A1")
    assert "王A1" in client.get(recent).get_data(as_text=True)


def test_an_address_sealed_under_a_former_key_still_opens(app, client, area) -> None:  # type: ignore[no-untyped-def]
    """SECRET_KEY changed, the former one kept in SECRET_KEY_FALLBACKS: an address made just
    before the change still searches (and one made under a key not kept does not)."""
    login(client, "centre")
    location = _sealed_address(client, "王A1")
    former = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"] = "the key after the change", [former]
    assert "王A1" in client.get(location).get_data(as_text=True)
    app.config["SECRET_KEY_FALLBACKS"] = []
    login(client, "centre")  # the session's cookie was signed with the former key too
    assert _refused(client.get(location))


def test_a_search_posted_without_the_token_is_refused(client, area) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    assert client.post("/search", data={"q": "王A1"}).status_code == 400


def test_the_box_does_not_echo_another_pages_query(client, area) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    assert 'value=""' in _box(client.get("/units?q=13812345678").get_data(as_text=True))


def test_a_page_left_open_for_hours_still_searches(client, area, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The session lives on through other work; the page's token as long as the session (it
    lasted an hour: "this form has expired" to the next search)."""
    login(client, "centre")
    sign = itsdangerous.TimestampSigner.sign

    def three_hours_ago(self, value):  # type: ignore[no-untyped-def]
        # Only the form's token is made as if three hours ago: the session's cookie is current.
        if self.salt == b"wtf-csrf-token":
            self.get_timestamp = lambda: int(time.time()) - 3 * 3600
        try:
            return sign(self, value)
        finally:
            self.__dict__.pop("get_timestamp", None)

    with monkeypatch.context() as past:
        past.setattr(itsdangerous.TimestampSigner, "sign", three_hours_ago)
        box = _box(client.get("/").get_data(as_text=True))
    token = re.search(r'name="csrf_token" value="([^"]+)"', box)
    assert token
    answer = client.post("/search", data={"q": "王A1", "csrf_token": token.group(1)}, follow_redirects=True)
    assert answer.status_code == 200 and "王A1" in answer.get_data(as_text=True)

"""The console's search box posts (webapp/templates/base.html): what is typed into it, an ID or
phone number, is in no address (the browser's history, the next page's referrer, the logs on
the way: tests/test_serve.py reads gunicorn's access log)."""
from __future__ import annotations

import re
import time

import itsdangerous
import pytest
from sqlalchemy import select

from tests.conftest import login
from webapp.models import AuditEntry


def _box(page: str) -> str:
    box = re.search(r'<form class="search"[^>]*>.*?</form>', page, re.S)
    assert box, "the header has the search box"
    return box.group(0)


def test_the_search_box_posts_and_finds_by_a_typed_number(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    box = _box(client.get("/").get_data(as_text=True))
    assert 'method="post"' in box
    token = re.search(r'name="csrf_token" value="([^"]+)"', box)
    assert token
    number = area.persons["A1"].id_number
    answer = client.post("/search", data={"q": number, "csrf_token": token.group(1)})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "王A1" in page
    assert answer.headers["Cache-Control"] == "no-store"
    assert f'value="{number}"' in _box(page)  # what was typed stays in the box, on this page only
    db_session.rollback()
    logged = db_session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "search")).one()
    assert number not in str(logged) and logged["persons"] == [str(area.persons["A1"].id)]


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
    answer = client.post("/search", data={"q": "王A1", "csrf_token": token.group(1)})
    assert answer.status_code == 200 and "王A1" in answer.get_data(as_text=True)

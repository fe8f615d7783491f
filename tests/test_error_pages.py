"""The error page speaks the page's language. werkzeug's and Flask-WTF's own descriptions are
English only: a Chinese console showed "The CSRF token is missing." to someone whose form had
expired, and werkzeug's 400 and 405 texts (found by an outside crawl)."""
from __future__ import annotations

import pytest

from tests.conftest import csrf_token, login

WERKZEUG_ENGLISH = ("The browser (or proxy) sent a request", "The method is not allowed", "The CSRF token")


def _ask(client, area, how: str):  # type: ignore[no-untyped-def]
    if how == "a date that does not exist":
        return client.get("/audit?since=2026-02-30")
    if how == "a form without its token":
        return client.post(f"/plates/cells/{area.cells['A1'].id}/assign", data={})
    return client.get("/lang/en")  # a GET on a POST-only route


@pytest.mark.parametrize("how, status, chinese, english", [
    ("a date that does not exist", 400, "无法识别该请求", "The request could not be understood"),
    ("a form without its token", 400, "表单已过期", "This form has expired"),
    ("a GET on a form's address", 405, "不能以这种方式使用本页面", "This page cannot be used that way"),
])
def test_an_error_page_says_what_happened_in_the_pages_language(client, area, how: str, status: int, chinese: str,
                                                                english: str) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    for language, words in (("zh_CN", chinese), ("en", english)):
        client.post(f"/lang/{language}", data={"csrf_token": csrf_token(client, "/"), "next": "/"})
        answer = _ask(client, area, how)
        page = answer.get_data(as_text=True)
        assert answer.status_code == status and words in page, (language, page[-600:])
        if language == "zh_CN":
            assert not [w for w in WERKZEUG_ENGLISH if w in page]


def test_an_error_the_app_words_itself_is_shown_as_written(client, area) -> None:  # type: ignore[no-untyped-def]
    # The NUL refusal carries both languages already: it is not replaced by a generic text.
    login(client, "centre")
    page = client.get("/search?q=%00").get_data(as_text=True)
    assert "不接受空字符" in page

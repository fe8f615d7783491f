"""Numbers in a console page's query string (`?page=`, `?older=`) past what the database or
Python take: each page answered 500 for `?page=99999999999999999999999` (an OFFSET past 64
bits) and the conflict queue for `?older=` as many days (a timedelta overflow). Now every
such number is kept within range (webapp/query_args.py). Both backends."""
from __future__ import annotations

import pytest

from tests.conftest import login

URLS = ["/admin/users", "/tasks", "/reviews", "/audit", "/conflicts", "/statistics/persons?chart=category&key=migrant", "/units",
        "/reports/lists/flags", "/reports/grading"]
HUGE = "99999999999999999999999"


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("number", [HUGE, "9223372036854775807", "-5"])
def test_any_page_number_answers_a_page(client, area, url: str, number: str) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    path, _, query = url.partition("?")
    assert client.get(f"{path}?{query}&page={number}").status_code == 200


@pytest.mark.parametrize("older", [HUGE, "-1", "x", "36501"])
def test_any_age_filter_answers_the_conflict_queue(client, area, older: str) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    assert client.get("/conflicts", query_string={"older": older}).status_code == 200

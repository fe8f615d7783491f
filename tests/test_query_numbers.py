"""Numbers in a query string past what the database or Python take: each console page
answered 500 for `?page=99999999999999999999999` (an OFFSET past 64 bits), the conflict
queue for `?older=` as many days (a timedelta overflow), the task queue for such an
`?assignee=` or for "²" (a digit to str.isdigit, not to int()), and the pull for
`?protocol=²` or `?limit=²`. Every such number is now read by webapp/query_args.py. Both
backends."""
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


@pytest.mark.parametrize("assignee", [HUGE, "²", "2147483648"])
def test_any_assignee_answers_the_task_queue_or_404(client, area, assignee: str) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    assert client.get("/tasks", query_string={"assignee": assignee}).status_code in (200, 404)


@pytest.mark.parametrize("campaign", [HUGE, "²", "2147483648"])
def test_any_campaign_number_answers_the_map_or_404(client, area, campaign: str) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    assert client.get("/coverage", query_string={"campaign": campaign}).status_code == 404


@pytest.mark.parametrize(("query", "code"), [({"protocol": "²"}, "invalid_protocol"), ({"protocol": "2", "limit": "²"},
                                              "invalid_limit"), ({"protocol": "2", "limit": HUGE}, "invalid_limit"),
                                             ({"protocol": "9" * 5000}, "invalid_protocol")],
                         ids=["protocol-superscript", "limit-superscript", "limit-huge", "protocol-5000-digits"])
def test_a_pull_refuses_digits_that_are_not_numbers(client, area, query: dict[str, str], code: str) -> None:  # type: ignore[no-untyped-def]
    token = client.post("/api/devices", json={"username": "coord", "password": "pw"}).get_json()["token"]
    answer = client.get("/api/sync/pull", query_string=query, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 422 and answer.get_json()["code"] == code
    assert len(answer.get_json()["detail"]) < 200  # not the 5,000 digits echoed back


@pytest.mark.parametrize(("bound", "day"), [("until", "9999-12-31"), ("since", "0001-01-01"), ("since", "9999-12-31"),
                                            ("until", "0001-01-01")])
def test_the_audit_log_takes_the_calendars_ends(client, area, bound: str, day: str) -> None:  # type: ignore[no-untyped-def]
    """"To 9999-12-31" (one past it in UTC) and "from 0001-01-01" (before it in Shanghai's
    midnight) overflowed: a 500. Held to the days a record can carry."""
    login(client, "centre")
    assert client.get("/audit", query_string={bound: day}).status_code == 200
    assert client.get("/audit/export.csv", query_string={bound: day}).status_code == 200

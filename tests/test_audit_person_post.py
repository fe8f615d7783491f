"""The audit log's filter form posts (webapp/templates/auditlog/index.html): an ID number typed
to filter by a person is in no address (history, referrer, proxy logs), and the CSRF token in
none. The answer is a 303 to a GET whose `ps` holds the number sealed to the user
(webapp/base/sealed_query.py); the pages' and the exports' links carry `ps`, not the number."""
from __future__ import annotations

import csv
import html
import io
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import select

from tests import factories as f
from tests.conftest import CSRF_RE, login, logout
from webapp.base import sealed_query
from webapp.models import AuditEntry

EXPIRED = {"en": "This filter has expired or was made in another account: type the ID number again.",
           "zh-CN": "此筛选已过期，或来自另一个账户：请重新输入证件号码。"}


def _leaks(text: str, number: str) -> list[str]:
    text = unquote(text)
    digits = number.rstrip("Xx")
    return [digits[i:i + 6] for i in range(len(digits) - 5) if digits[i:i + 6] in text]


def _addresses(page: str) -> list[str]:
    return [html.unescape(a) for a in re.findall(r'(?:href|action|formaction|src)="([^"]*)"', page)]


def _listed(page: str) -> list[str]:
    return re.findall(r'<td class="small" data-action="([a-z_.]+)">', page)


@pytest.fixture
def looks(area, db_session):  # type: ignore[no-untyped-def]
    """105 looks at A1 (two pages) and one at A2, by the police."""
    for key, times in (("A1", 105), ("A2", 1)):
        for _ in range(times):
            db_session.add(AuditEntry(user_id=area.users["police"].id, action="view_person", object_type="person",
                                      object_id=str(area.persons[key].id), detail={}))
    db_session.commit()
    return area


def _filter(client, **fields: str):  # type: ignore[no-untyped-def]
    page = client.get("/audit").get_data(as_text=True)
    form = re.search(r'<form class="report-filters audit-filters".*?</form>', page, re.S)
    assert form and 'method="post"' in form.group(0)
    token = CSRF_RE.search(form.group(0))
    assert token
    return client.post("/audit", data={"csrf_token": token.group(1), **fields})


def test_the_person_filter_posts_and_the_number_stays_out_of_every_address(client, looks, db_session) -> None:  # type: ignore[no-untyped-def]
    person = looks.persons["A1"]
    number = person.id_number
    login(client, "centre")
    answer = _filter(client, person=number, action="view_person", user="")
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert location.startswith("/audit?") and "ps=" in location, location
    assert not _leaks(location, number) and "csrf" not in location and "user=" not in location
    first = client.get(location)
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    assert _listed(page) == ["view_person"] * 100
    assert f'value="{number}"' in page  # what was typed stays in the box, on the page only
    for address in _addresses(page):
        assert not _leaks(address, number) and "csrf" not in address, address
    # The next page and the export keep the filter, through the sealed token.
    [older] = [a for a in _addresses(page) if "page=2" in a]
    assert "ps=" in older
    assert _listed(client.get(older).get_data(as_text=True)) == ["view_person"] * 5
    [export] = [a for a in _addresses(page) if a.startswith("/audit/export.csv")]
    rows = list(csv.reader(io.StringIO(client.get(export).get_data().decode("utf-8-sig"))))[2:]
    assert len(rows) == 105 and {r[6] for r in rows} == {str(person.id)}
    db_session.rollback()
    logged = db_session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "view_audit")).first()
    assert logged is not None and logged["filters"]["person_id"] == str(person.id)
    assert number not in str(logged)


def test_a_record_id_and_the_other_filters_travel_in_clear(client, looks) -> None:  # type: ignore[no-untyped-def]
    person = looks.persons["A2"]
    login(client, "centre")
    answer = _filter(client, person=str(person.id), action="view_person")
    assert answer.status_code == 303
    address = urlsplit(answer.headers["Location"])
    assert address.path == "/audit" and parse_qs(address.query) == {"person": [str(person.id)],
                                                                     "action": ["view_person"]}
    assert _listed(client.get(answer.headers["Location"]).get_data(as_text=True)) == ["view_person"]


def test_a_number_that_names_nobody_still_answers_404(client, looks) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    answer = _filter(client, person="11010519491231002Y")
    assert answer.status_code == 303 and client.get(answer.headers["Location"]).status_code == 404


def test_the_filter_form_without_its_csrf_token_is_refused(client, looks) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    assert client.post("/audit", data={"person": looks.persons["A1"].id_number}).status_code == 400


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_another_accounts_token_opens_nothing(client, looks, db_session, language) -> None:  # type: ignore[no-untyped-def]
    other = f.user(db_session, "centre2", "centre")
    db_session.commit()
    login(client, "centre")
    location = _filter(client, person=looks.persons["A1"].id_number, action="view_person").headers["Location"]
    logout(client)
    login(client, "centre2")
    answer = client.get(location, headers={"Accept-Language": language})
    # Back to the log without that filter (the others kept), saying why: never the whole log
    # shown as if it were the person's.
    assert answer.status_code == 303 and answer.headers["Location"] == "/audit?action=view_person"
    page = client.get(answer.headers["Location"], headers={"Accept-Language": language}).get_data(as_text=True)
    assert EXPIRED[language] in page
    export = location.replace("/audit?", "/audit/export.csv?")
    assert client.get(export).status_code == 404
    # The combine page's token, or the search's, for this user does not open here either.
    for token in (sealed_query.seal(("test-secret",), other.id, looks.persons["A1"].id_number),
                  sealed_query.seal_fields(("test-secret",), other.id, "combine",
                                           {"person": looks.persons["A1"].id_number})):
        assert client.get("/audit", query_string={"ps": token}).status_code == 303

"""A refused write's values stay out of the logs (webapp/base/dberrors.py, webapp/errors.py):
the text of a database error may quote the row it refused (PostgreSQL's DETAIL, SQLAlchemy's
parameters), and logs are kept and read apart from the registry."""
from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from tests import factories
from tests.conftest import valid_id
from webapp.base.dberrors import describe

NUMBER = valid_id("31011019900101123")
PHONE = "13912345678"


def _twins(session: Session) -> None:
    """Two live persons with one ID number: the unique index refuses the second."""
    factories.person(session, "王甲", NUMBER, phone=PHONE)
    factories.person(session, "王乙", NUMBER, phone=PHONE)


def test_a_refused_write_is_described_by_its_rule_not_its_values(engine: Any, backend: str) -> None:
    with Session(engine) as session, pytest.raises(IntegrityError) as refused:
        _twins(session)
    said = describe(refused.value)
    assert NUMBER not in said and PHONE not in said
    assert "uq_person_id_number_live" in said if backend == "postgresql" else "person.id_number" in said


@pytest.fixture
def app_with(app: Any) -> Any:
    """The app with a page that runs `app.config["TEST_WORK"]` on its session (a GET that writes)."""
    from webapp.extensions import db

    def work() -> str:
        app.config["TEST_WORK"](db.session)
        db.session.commit()
        return "done"
    work.writes_on_get = True  # type: ignore[attr-defined]
    app.add_url_rule("/_test/work", "test_work", work)
    return app


def test_the_app_logs_a_refused_write_without_its_values(app_with: Any, caplog: pytest.LogCaptureFixture) -> None:
    app_with.config["TEST_WORK"] = _twins
    with caplog.at_level(logging.WARNING):
        response = app_with.test_client().get("/_test/work")
    assert response.status_code == 409
    # Logged, with the rule that refused it.
    assert "concurrent write refused: " in caplog.text
    assert "uq_person_id_number_live" in caplog.text or "person.id_number" in caplog.text
    assert NUMBER not in caplog.text and PHONE not in caplog.text


def test_an_unexpected_database_error_is_logged_without_the_value_it_quotes(
        app_with: Any, backend: str, caplog: pytest.LogCaptureFixture) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite's messages name columns and constraints, never a value")
    # PostgreSQL's own message quotes the value it could not take: 'value "3101…" is out of range…'.
    app_with.config["TEST_WORK"] = lambda s: s.execute(text("SELECT CAST(:v AS integer)"), {"v": NUMBER + "X"})
    with caplog.at_level(logging.ERROR):
        response = app_with.test_client().get("/_test/work")
    assert response.status_code == 500
    assert re.search(r"unhandled error: \w+ \(22\w{3}\)", caplog.text)  # a data exception, by its SQLSTATE
    assert "in work" in caplog.text  # where it failed: the stack is kept
    assert NUMBER not in caplog.text
    with pytest.raises(DBAPIError) as raised:  # the error's own text does quote it
        with app_with.app_context():
            from webapp.extensions import db
            db.session.execute(text("SELECT CAST(:v AS integer)"), {"v": NUMBER + "X"})
    assert NUMBER in str(raised.value)

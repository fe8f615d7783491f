"""Login throttling: per client address (any account), and growing delays per account and
client network instead of a lock of the account; the settings in config.py (and the README)."""
from __future__ import annotations

import pytest

from config import Config, TestConfig
from tests.conftest import csrf_token


def _fail(client, username: str):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"username": username, "password": "wrong",
                                       "csrf_token": csrf_token(client)})


def test_the_defaults_are_in_config() -> None:
    assert (Config.LOGIN_FAILURES_PER_IP, Config.LOGIN_IP_WINDOW_S) == (20, 900)
    assert (TestConfig.LOGIN_FAILURES_PER_IP, TestConfig.LOGIN_IP_WINDOW_S) == (20, 900)


def test_the_throttle_uses_the_configured_limit(app, area) -> None:  # type: ignore[no-untyped-def]
    from webapp.auth import throttle

    with app.test_request_context():
        assert throttle.settings() == (app.config["LOGIN_FAILURES_PER_IP"], app.config["LOGIN_IP_WINDOW_S"])
    c = app.test_client()
    # Twenty failures (different accounts: the per-account lock-out plays no part) are answered…
    for n in range(20):
        assert _fail(c, f"nobody{n}").status_code == 401
    # …and the twenty-first attempt, even with the right password, is refused for the window.
    refused = c.post("/login", data={"username": "centre", "password": "pw", "csrf_token": csrf_token(c)})
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 900


def test_the_configured_window_bounds_the_wait(app, area) -> None:  # type: ignore[no-untyped-def]
    app.config.update(LOGIN_FAILURES_PER_IP=1, LOGIN_IP_WINDOW_S=60)
    c = app.test_client()
    assert _fail(c, "x").status_code == 401
    refused = c.post("/api/devices", json={"username": "coord", "password": "pw"})
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 60


def test_the_refusal_is_in_chinese(app, area) -> None:  # type: ignore[no-untyped-def]
    app.config.update(LOGIN_FAILURES_PER_IP=1, LOGIN_IP_WINDOW_S=600)
    c = app.test_client()
    assert _fail(c, "x").status_code == 401
    refused = c.post("/login", data={"username": "centre", "password": "pw", "csrf_token": csrf_token(c)},
                     headers={"Accept-Language": "zh-CN"})
    assert refused.status_code == 429
    assert "此地址登录失败次数过多" in refused.get_data(as_text=True)


# --- Delays per account and client network (webapp/auth/delays.py) ------------------------

def _try(client, username: str, password: str = "wrong", door: str = "console"):  # type: ignore[no-untyped-def]
    if door == "phone":
        return client.post("/api/devices", json={"username": username, "password": password})
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_token(client)})


def _from(app, address: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _wait_over(db_session) -> None:  # type: ignore[no-untyped-def]
    """Let the current delays run out (their end set in the past), as a patient client would."""
    from datetime import timedelta

    from sqlalchemy import update

    from webapp.models import LoginFailure
    from webapp.base.timeutil import utcnow

    db_session.rollback()
    db_session.execute(update(LoginFailure).values(blocked_until=utcnow() - timedelta(seconds=1)))
    db_session.commit()


def test_the_delay_defaults_are_in_config() -> None:
    assert (Config.LOGIN_ACCOUNT_FREE_FAILURES, Config.LOGIN_ACCOUNT_MAX_DELAY_S) == (5, 900)
    assert Config.SESSION_IDLE_S == 1800 and not hasattr(Config, "LOGIN_MAX_FAILURES")


# (failures so far, free failures, longest delay, seconds to wait)
DELAYS = [(0, 5, 900, 0), (4, 5, 900, 0), (5, 5, 900, 1), (6, 5, 900, 2), (9, 5, 900, 16), (14, 5, 900, 512),
          (15, 5, 900, 900), (10**6, 5, 900, 900), (1, 1, 60, 1), (8, 1, 60, 60)]


@pytest.mark.parametrize(("failures", "free", "longest", "wait"), DELAYS)
def test_delays_double_up_to_the_longest(failures: int, free: int, longest: int, wait: int) -> None:
    from webapp.auth.delays import delay_after

    assert delay_after(failures, free, longest) == wait


@pytest.mark.parametrize("door", ["console", "phone"])
def test_an_attacker_cannot_lock_the_centre_out(app, area, door: str) -> None:  # type: ignore[no-untyped-def]
    """Five wrong passwords used to lock the centre's account for 15 minutes, for everyone."""
    app.config["LOGIN_FAILURES_PER_IP"] = 10**6  # the per-address limit is not what is tested here
    attacker, office = _from(app, "203.0.113.5"), _from(app, "10.0.0.9")
    answers = [_try(attacker, "centre", door=door).status_code for _ in range(12)]
    # The attacker's network, even with the right password, waits. Asked at once: the delay
    # is a few seconds here, and two logins from the office (two password hashes) on a busy
    # machine outlasted it (the right password then got through, and the test failed).
    delayed = _try(attacker, "centre", "pw", door=door)
    assert set(answers) == {401, 429} and answers[-1] == 429
    assert delayed.status_code == 429 and 1 <= int(delayed.headers["Retry-After"]) <= app.config["LOGIN_ACCOUNT_MAX_DELAY_S"]
    # The centre's office still logs in, and still registers a phone.
    assert _try(office, "centre", "pw").status_code == 302
    assert _try(office, "centre", "pw", door="phone").status_code == 201


# (where the failures come from, where the next try comes from, delayed?)
NETWORKS = [
    ("203.0.113.5", "203.0.113.5", True),
    ("203.0.113.5", "203.0.113.6", False),
    ("2001:db8:1:2::5", "2001:db8:1:2:ffff::99", True),  # the same /64: one subscriber
    ("2001:db8:1:2::5", "2001:db8:1:3::5", False),
]


@pytest.mark.parametrize(("failing", "trying", "delayed"), NETWORKS)
def test_delays_count_per_network(app, area, failing: str, trying: str, delayed: bool) -> None:  # type: ignore[no-untyped-def]
    for _ in range(app.config["LOGIN_ACCOUNT_FREE_FAILURES"]):
        assert _try(_from(app, failing), "coord").status_code == 401
    assert (_try(_from(app, trying), "coord", "pw").status_code == 429) is delayed


def test_delays_grow_and_a_right_password_clears_them(app, area, db_session) -> None:  # type: ignore[no-untyped-def]
    c = app.test_client()
    for _ in range(app.config["LOGIN_ACCOUNT_FREE_FAILURES"] - 1):
        assert _try(c, "coord").status_code == 401
    waits = []
    for _ in range(4):
        assert _try(c, "coord").status_code == 401  # checked, wrong, and now the network waits…
        refused = _try(c, "coord", "pw")
        assert refused.status_code == 429  # …even with the right password
        waits.append(int(refused.headers["Retry-After"]))
        _wait_over(db_session)
    assert waits == [1, 2, 4, 8]
    assert _try(c, "coord", "pw").status_code == 302  # after the wait, the right password
    c = app.test_client()
    assert _try(c, "coord").status_code == 401  # and the count starts again


def test_failures_are_forgotten_after_a_quiet_day(app, area, db_session) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from sqlalchemy import update

    from webapp.models import LoginFailure
    from webapp.base.timeutil import utcnow

    c = app.test_client()
    for _ in range(app.config["LOGIN_ACCOUNT_FREE_FAILURES"]):
        _try(c, "coord")
    db_session.execute(update(LoginFailure).values(last_failure_at=utcnow() - timedelta(days=2), blocked_until=None))
    db_session.commit()
    assert _try(c, "coord").status_code == 401
    assert _try(c, "coord").status_code == 401  # counted from one again, not delayed


def test_the_table_keeps_neither_name_nor_address(app, area, db_session) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    _try(_from(app, "203.0.113.5"), "centre")
    db_session.rollback()
    rows = db_session.execute(text("SELECT * FROM login_failure")).mappings().all()
    assert len(rows) == 1
    assert not any("centre" in str(v) or "203.0.113" in str(v) for v in rows[0].values())


@pytest.mark.parametrize("settings", [{"LOGIN_ACCOUNT_FREE_FAILURES": 0}, {"LOGIN_ACCOUNT_MAX_DELAY_S": 0},
                                      {"LOGIN_ACCOUNT_MAX_DELAY_S": 3 * 86400}])
def test_the_delay_settings_are_checked(app, settings: dict[str, int]) -> None:
    from webapp.auth import delays

    app.config.update(settings)
    with app.test_request_context(), pytest.raises(RuntimeError, match="LOGIN_ACCOUNT"):
        delays.settings()


@pytest.mark.parametrize("old", ["LOGIN_MAX_FAILURES", "LOGIN_LOCKOUT_S"])
def test_the_replaced_settings_are_refused_by_name(monkeypatch: pytest.MonkeyPatch, old: str) -> None:
    from config import load_config

    monkeypatch.setenv(old, "5")
    with pytest.raises(RuntimeError, match="LOGIN_ACCOUNT_"):
        load_config("development")

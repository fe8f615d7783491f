"""The login throttle per client address uses the settings in config.py (and the README)."""
from __future__ import annotations

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

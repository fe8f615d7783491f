"""The field app's routes: shell, manifest and the root-scope service worker (no database)."""
from __future__ import annotations

import json

import pytest
from flask import Flask

from config import TestConfig
from webapp.app import create_app
from webapp.fieldapp import assets


@pytest.fixture
def bare_app() -> Flask:
    return create_app(TestConfig())


def test_service_worker_is_served_at_the_root(bare_app: Flask) -> None:
    r = bare_app.test_client().get("/sw.js")
    assert r.status_code == 200 and "javascript" in r.content_type
    assert r.headers["Cache-Control"] == "no-cache" and r.headers["Service-Worker-Allowed"] == "/"
    body = r.get_data(as_text=True)
    assert body.startswith("const VERSION = ") and "/static/pwa/app.js" in body and "/vendor/idb/" in body


def test_version_follows_the_files_and_the_release(bare_app: Flask) -> None:
    first = assets.version("")
    assert first == assets.version("") and first != assets.version("next")
    urls = [u for u, _p in assets.precache()]
    assert "/app/" in urls and all(u.startswith(("/app/", "/static/pwa/", "/vendor/")) for u in urls)
    client = bare_app.test_client()
    for url in urls:  # everything precached exists, so install cannot fail on a missing file
        response = client.get(url)
        assert response.status_code == 200, url
        response.close()


def test_shell_has_no_inline_script_or_style(bare_app: Flask) -> None:
    r = bare_app.test_client().get("/app/")
    html = r.get_data(as_text=True)
    assert r.headers["Cache-Control"] == "no-cache" and "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert "<script>" not in html and "style=" not in html and "<style" not in html and "importmap" not in html
    manifest = json.loads(bare_app.test_client().get("/app/manifest.webmanifest").get_data(as_text=True))
    assert manifest["name"] == "网格采集" and {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}


def test_shell_carries_the_permit_warning_days_and_a_change_is_an_update() -> None:
    def served(**config: object) -> tuple[str, str]:
        cfg = TestConfig()
        for key, value in config.items():
            setattr(cfg, key, value)
        client = create_app(cfg).test_client()
        return client.get("/app/").get_data(as_text=True), client.get("/sw.js").get_data(as_text=True).split("\n", 1)[0]

    shell, version = served()
    assert '<meta name="gw-permit-days" content="30">' in shell  # the rule's default
    shell_45, version_45 = served(PERMIT_EXPIRY_WARN_DAYS=45)
    assert '<meta name="gw-permit-days" content="45">' in shell_45
    assert version_45 != version  # phones take the new setting with the next app update
    assert '<meta name="gw-cycle" content="month">' in shell
    shell_q, version_q = served(COLLECTION_CYCLE="quarter")
    assert '<meta name="gw-cycle" content="quarter">' in shell_q and version_q != version

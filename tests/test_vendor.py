"""npm files are served from our origin, allow-listed, versioned and cached for a year."""
from __future__ import annotations

import pytest
from flask import Flask

from config import TestConfig
from webapp.app import create_app
from webapp.vendor.files import installed_version


@pytest.fixture
def bare_app() -> Flask:
    # No database work here: the vendor route never touches it.
    return create_app(TestConfig())


def test_leaflet_is_served_with_a_long_cache(bare_app: Flask) -> None:
    version = installed_version("leaflet")
    assert version == "1.9.4", "node_modules missing or not the locked version: run `make test`"
    client = bare_app.test_client()
    for name, kind in [("leaflet.js", "javascript"), ("leaflet.css", "text/css"),
                       ("images/layers.png", "image/png")]:
        response = client.get(f"/vendor/leaflet/{version}/{name}")
        assert response.status_code == 200, name
        assert kind in response.content_type
        assert "immutable" in response.headers["Cache-Control"]
        assert "max-age=31536000" in response.headers["Cache-Control"]
        response.close()


@pytest.mark.parametrize("path", [
    "leaflet/{v}/leaflet.js.map",          # present in node_modules, not allow-listed
    "leaflet/{v}/../package.json",
    "leaflet/{v}/images/../../package.json",
    "leaflet/0.0.1/leaflet.js",            # a version that is not installed
    "axe-core/4.14.1/axe.min.js",          # a dev tool, never served
    "leaflet/{v}/%2e%2e/%2e%2e/package-lock.json",
])
def test_anything_else_is_not_found(bare_app: Flask, path: str) -> None:
    response = bare_app.test_client().get("/vendor/" + path.format(v=installed_version("leaflet")))
    assert response.status_code == 404


def test_vendor_url_helper(bare_app: Flask) -> None:
    with bare_app.test_request_context():
        url = bare_app.jinja_env.globals["vendor_url"]("leaflet", "leaflet.css")  # type: ignore[operator]
    assert url == f"/vendor/leaflet/{installed_version('leaflet')}/leaflet.css"

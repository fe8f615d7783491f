"""GET /app/ (the shell), /app/manifest.webmanifest, /app/area-codes.json, /sw.js, the QR of
the app's address (/app/qr.svg, shown on the console's home) and the site's icon (/favicon.ico).

None of these touch the database or the login session: the app authenticates its API calls
with a device token and must load with no network at all.
"""
from __future__ import annotations

import json
from functools import cache
from typing import Any

from flask import current_app, make_response, render_template, send_file, url_for

from geo.settings import GeoSettings
from webapp.coverage.drawing import tile_source
from webapp.fieldapp import assets, bp
from webapp.registry.plates import qr_svg
from webapp.registry.rules.settings import RuleSettings
from webapp.validation import area_codes

APP_NAME = "网格采集"


def _no_cache(response: Any) -> Any:
    # Always revalidated: the worker decides what the phone runs, not the HTTP cache.
    response.headers["Cache-Control"] = "no-cache"
    return response


def _permit_days() -> int:
    # The residence-permit warning (registry rule "permits"): the phone lists permits due offline.
    return RuleSettings.from_config(current_app.config).permit_expiry_warn_days


def _permit_endorse() -> str:
    # The same rule's yearly endorsement: its window in days and the card's validity in years.
    rules = RuleSettings.from_config(current_app.config)
    return f"{rules.permit_endorse_window_days}/{rules.permit_validity_years}"


def _registry() -> dict[str, str]:
    # Issue 18: a fixed line without its area code (LANDLINE_AREA_CODE); where 人户分离 is judged
    # (HOME_REGION, HUKOU_MATCH_LEVEL): the occupant's form says at once whether the hukou
    # address is this house, by the rule the server's 人户分离 finding uses.
    rules = RuleSettings.from_config(current_app.config)
    return {"landline_area": str(current_app.config.get("LANDLINE_AREA_CODE") or "021"),
            "home_region": rules.home_region, "hukou_level": rules.hukou_match_level}


def _cycle() -> str:
    # COLLECTION_CYCLE (month or quarter): the phone counts "visited this cycle" offline by it.
    return GeoSettings.from_config(current_app.config).collection_cycle


def _timezone() -> str:
    # TIMEZONE: the phone shows every date and time in the registry's zone, not its own.
    return str(current_app.config.get("TIMEZONE") or "Asia/Shanghai")


def _tiles() -> dict[str, str]:
    # The background map (MAP_TILE_*) and how much of it a phone keeps offline (views/map.js, tiles.js).
    cfg = current_app.config
    return {"url": str(cfg.get("MAP_TILE_URL") or ""), "crs": str(cfg.get("MAP_TILE_CRS") or "wgs84").lower(),
            "attribution": str(cfg.get("MAP_TILE_ATTRIBUTION") or ""), "mb": str(int(cfg.get("MAP_TILE_CACHE_MB") or 30))}


def _version() -> str:
    # FIELDAPP_RELEASE forces a new app version without a file change (README, field app).
    # The settings the shell carries count too: a changed setting reaches phones as an update.
    tiles = "|".join(_tiles().values())
    registry = "|".join(_registry().values())
    return assets.version(f"{current_app.config.get('FIELDAPP_RELEASE', '')}|permit_days={_permit_days()}"
                          f"|permit_endorse={_permit_endorse()}|cycle={_cycle()}|tz={_timezone()}|tiles={tiles}"
                          f"|registry={registry}")


@bp.route("/app/")
def shell() -> Any:
    tiles = _tiles()
    response = _no_cache(make_response(render_template(
        "fieldapp/shell.html", idb_url=assets.vendor_url("idb"), jsqr_url=assets.vendor_url("jsqr"),
        leaflet_url=assets.vendor_url("leaflet", "leaflet.js"), leaflet_css=assets.vendor_url("leaflet", "leaflet.css"),
        app_name=APP_NAME, permit_days=_permit_days(), permit_endorse=_permit_endorse(), cycle=_cycle(),
        timezone=_timezone(), tiles=tiles, registry=_registry())))
    source = tile_source(tiles["url"]) if tiles["url"] else None
    if source:
        # Only with configured tiles does the app load anything from elsewhere: the tiles, as
        # images and (to keep them offline) as fetches.
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; img-src 'self' data: blob: {source}; connect-src 'self' {source}; "
            "style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
            "form-action 'self'")
    return response


@bp.route("/app/manifest.webmanifest")
def manifest() -> Any:
    body = {
        "name": APP_NAME, "short_name": APP_NAME, "lang": "zh-CN", "dir": "ltr",
        "description": "社区综合协管员上门采集实有人口、实有房屋、实有单位",
        "id": "/app/", "start_url": "/app/", "scope": "/", "display": "standalone",
        "orientation": "portrait", "background_color": "#ffffff", "theme_color": "#0b5394",
        "icons": [{"src": url_for("static", filename=f"pwa/icons/icon-{n}.png"), "sizes": f"{n}x{n}",
                   "type": "image/png", "purpose": "any maskable"} for n in (192, 512)],
    }
    response = make_response(json.dumps(body, ensure_ascii=False))
    response.mimetype = "application/manifest+json"
    return _no_cache(response)


@cache
def _known_codes() -> str:
    return json.dumps(sorted(area_codes._table()), separators=(",", ":"))


@cache
def _regions() -> str:
    return json.dumps(area_codes.county_choices(), ensure_ascii=False, separators=(",", ":"))


@bp.route("/app/regions.json")
def regions() -> Any:
    """Current counties by province ([[province, [[code, full name], …]], …]): the hukou district
    picker on the occupant's form, offline (part of the shell)."""
    response = make_response(_regions())
    response.mimetype = "application/json"
    return _no_cache(response)


@bp.route("/app/area-codes.json")
def known_area_codes() -> Any:
    """GB/T 2260 codes, current and retired, for the app's "unknown area" warning."""
    response = make_response(_known_codes())
    response.mimetype = "application/json"
    return _no_cache(response)


@bp.route("/sw.js")
def service_worker() -> Any:
    version = _version()
    head = (f"const VERSION = {json.dumps(version)};\n"
            f"const PRECACHE = {json.dumps([u for u, _p in assets.precache()])};\n")
    response = make_response(head + assets.WORKER.read_text(encoding="utf-8"))
    response.mimetype = "text/javascript"
    response.headers["Service-Worker-Allowed"] = "/"
    return _no_cache(response)


def app_url() -> str:
    """Where phones open the field app: PUBLIC_BASE_URL, the address printed plates lead to."""
    return f"{str(current_app.config['PUBLIC_BASE_URL']).rstrip('/')}/app/"


@bp.app_template_global("fieldapp_url")
def _fieldapp_url() -> str:
    return app_url()


@bp.route("/app/qr.svg")
def app_qr() -> Any:
    """The app's address as a QR code, for a phone's camera (the console's home shows it)."""
    response = make_response(qr_svg(app_url()))
    response.mimetype = "image/svg+xml"
    return _no_cache(response)


@bp.route("/favicon.ico")
def favicon() -> Any:
    # Browsers ask for it on every site; the app's own icon, small.
    response = send_file(assets.PWA_DIR / "icons" / "icon-32.png", mimetype="image/png", max_age=86400)
    return response

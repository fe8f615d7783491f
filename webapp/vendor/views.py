"""GET /vendor/<package>/<version>/<file>: allow-listed npm files, cached for a year.

The version is part of the URL, so an upgrade (a new package-lock.json) changes every URL
and a year-long immutable cache can never serve a stale library.
"""
from __future__ import annotations

from typing import Any

from flask import abort, send_file, url_for

from webapp.vendor import bp
from webapp.vendor.files import installed_version, resolve

ONE_YEAR_S = 365 * 24 * 3600


@bp.route("/vendor/<package>/<version>/<path:name>")
def asset(package: str, version: str, name: str) -> Any:
    path = resolve(package, version, name)
    if path is None:
        abort(404)
    response = send_file(path, max_age=ONE_YEAR_S, conditional=True, etag=True)
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR_S}, immutable"
    return response


@bp.app_template_global()
def vendor_url(package: str, name: str) -> str:
    """Template helper: `vendor_url('leaflet', 'leaflet.js')`."""
    return url_for("vendor.asset", package=package, version=installed_version(package) or "missing",
                   name=name)

"""The application factory."""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, request, session
from werkzeug.middleware.proxy_fix import ProxyFix

from config import load_config
from webapp.base.dbsetup import configure_engine
from webapp.extensions import babel, csrf, db, login_manager, migrate
from webapp.base.gate import OneAtATime
from webapp.query_args import RowId


def create_app(config: Any = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True, static_folder="../static")
    cfg = load_config(config) if config is None or isinstance(config, str) else config
    app.config.from_object(cfg)
    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    if _one_request_at_a_time(app.config):
        app.wsgi_app = OneAtATime(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])  # type: ignore[method-assign]
    register_extensions(app)
    app.url_map.converters["rowid"] = RowId
    register_blueprints(app)
    register_errorhandlers(app)
    register_security_headers(app)
    register_transaction_mode(app)
    register_commands(app)
    register_template_helpers(app)
    return app


def _one_request_at_a_time(config: Any) -> bool:
    chosen = config.get("ONE_REQUEST_AT_A_TIME")
    return str(config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite") if chosen is None else bool(chosen)


def _select_locale() -> str:
    chosen = session.get("lang") or request.cookies.get("lang")
    if chosen in ("zh_CN", "en"):
        return chosen
    from flask_login import current_user

    if getattr(current_user, "locale", None) in ("zh_CN", "en"):
        return current_user.locale
    return request.accept_languages.best_match(["zh_CN", "zh", "en"], default="zh_CN").replace(
        "zh", "zh_CN"
    ).replace("zh_CN_CN", "zh_CN")


def register_extensions(app: Flask) -> None:
    import os

    from webapp.doors import current_door
    from webapp.registry import recording

    recording.install(current_door)  # number every change, keep every version and its door

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"], app.config["SQLITE_CHECKPOINT_MS"])
    migrate.init_app(app, db, directory=_migrations_dir())
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, default_timezone=app.config["TIMEZONE"])
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"

    from webapp.auth.sessions import load_user

    # Also ends sessions after logout, a password change, deactivation or idleness.
    login_manager.user_loader(load_user)


def _migrations_dir() -> str:
    from config import BASE_DIR

    return str(BASE_DIR / "migrations")


def register_blueprints(app: Flask) -> None:
    from webapp.account import bp as account_bp
    from webapp.admin import bp as admin_bp
    from webapp.api import bp as api_bp
    from webapp.auditlog import bp as auditlog_bp
    from webapp.auth import bp as auth_bp
    from webapp.campaigns import bp as campaigns_bp
    from webapp.conflicts import bp as conflicts_bp
    from webapp.console import bp as console_bp
    from webapp.community import bp as community_bp
    from webapp.coverage import bp as coverage_bp
    from webapp.devices import bp as devices_bp
    from webapp.extract import bp as extract_bp
    from webapp.fieldapp import bp as fieldapp_bp
    from webapp.plates import bp as plates_bp
    from webapp.public import bp as public_bp
    from webapp.reports import bp as reports_bp
    from webapp.residence import bp as residence_bp
    from webapp.reviews import bp as reviews_bp
    from webapp.statistics import bp as statistics_bp
    from webapp.tasks import bp as tasks_bp
    from webapp.units import bp as units_bp
    from webapp.vendor import bp as vendor_bp

    app.register_blueprint(account_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(auditlog_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(campaigns_bp)
    app.register_blueprint(conflicts_bp)
    app.register_blueprint(console_bp)
    app.register_blueprint(community_bp)
    app.register_blueprint(coverage_bp)
    app.register_blueprint(devices_bp)
    app.register_blueprint(extract_bp)
    app.register_blueprint(fieldapp_bp)
    app.register_blueprint(plates_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(residence_bp)
    app.register_blueprint(reviews_bp)
    app.register_blueprint(statistics_bp)
    app.register_blueprint(tasks_bp)
    app.register_blueprint(units_bp)
    app.register_blueprint(vendor_bp)


def register_errorhandlers(app: Flask) -> None:
    from webapp.errors import register

    register(app)


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response: Any) -> Any:
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", "camera=(self), geolocation=(self)")
        hsts = current_app.config["HSTS_MAX_AGE_S"]
        if hsts > 0 and request.is_secure:
            # Not includeSubDomains: a subdistrict's host often shares its domain with others.
            response.headers.setdefault("Strict-Transport-Security", f"max-age={hsts}")
        if getattr(g, "no_store", False) or _may_show_personal_data():
            response.headers["Cache-Control"] = "no-store"
        return response


# Answers that carry no personal data and must stay cacheable: static files, /vendor/
# (versioned, a year immutable) and the field app's shell, which its service worker precaches
# (these revalidate: "no-cache", set by the views), and the public key phones seal rescue files to.
_CACHEABLE = frozenset({"static", "vendor.asset", "fieldapp.shell", "fieldapp.manifest",
                        "fieldapp.known_area_codes", "fieldapp.regions", "fieldapp.service_worker", "fieldapp.app_qr",
                        "fieldapp.favicon", "api.rescue_key"})


def _may_show_personal_data() -> bool:
    """Whether no browser or proxy may keep this answer (a shared office PC, the back button
    after logout): every answer to a signed-in user, and every /api/ answer (a device's token
    is no cookie). A rule by answer, not by page: a page added later is covered, errors too.
    Anonymous pages show no personal data; the public plate page sets no-store itself."""
    if request.endpoint in _CACHEABLE:
        return False
    # The session's user id, not current_user: loading the user would query the database in
    # every answer, errors included. A page that shows personal data has checked the login,
    # which puts the id in the session (a remember-me cookie's too).
    return request.path.startswith("/api/") or "_user_id" in session


def register_transaction_mode(app: Flask) -> None:
    """Safe methods only read: let SQLite begin them DEFERRED (see webapp.base.dbsetup).
    Every other request says IMMEDIATE itself rather than trust the default: the mode is a
    context variable, and a caller's "only reads" (a test's session, a CLI command around a
    request) must not make a push take its write lock half-way and fail with SQLITE_BUSY."""
    from webapp.base.dbsetup import sqlite_begin

    @app.before_request
    def _begin_mode() -> None:
        view = app.view_functions.get(request.endpoint or "")
        reads = request.method in ("GET", "HEAD", "OPTIONS") and not getattr(view, "writes_on_get", False)
        g.sqlite_begin_token = sqlite_begin.set("DEFERRED" if reads else "IMMEDIATE")

    @app.teardown_request
    def _reset_mode(_exc: BaseException | None) -> None:
        token = g.pop("sqlite_begin_token", None)
        if token is not None:
            sqlite_begin.reset(token)


def register_commands(app: Flask) -> None:
    from webapp.cli import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from webapp.templating import register

    register(app)

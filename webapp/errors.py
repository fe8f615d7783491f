"""One error handler: problem+json for the API, an HTML page for people."""
from __future__ import annotations

import traceback
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError
# Not "Conflict": that name is the sync conflict model everywhere else (tests/test_conflict_kinds.py).
from werkzeug.exceptions import Conflict as HTTPConflict

from webapp.base.dberrors import describe
from webapp.extensions import db

# Machine codes the API answers with, by HTTP status.
CODES = {
    400: "bad_request", 401: "unauthorised", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    422: "invalid", 429: "too_many_requests", 500: "server_error", 503: "unavailable", 507: "storage_full",
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def problem(status: int, detail: str, code: str | None = None, **extra: Any) -> Any:
    body = {"status": status, "code": code or CODES.get(status, "error"), "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _refuse_nul() -> None:
    """No person types a NUL character, and PostgreSQL refuses it in any text (a 500 deep in
    a query): refuse it once here, in the path, the query string and form fields."""
    texts = [request.path, *request.args.values()]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        texts += request.form.values()
    if any("\x00" in text for text in texts):
        raise BadRequest("NUL characters are not accepted / 不接受空字符 (NUL)")


def register(app: Flask) -> None:
    app.before_request(_refuse_nul)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Any:
        status = error.code or 500
        if status >= 500:
            db.session.rollback()
        if wants_json():
            return problem(status, error.description or "", getattr(error, "problem_code", None))
        return render_template("error.html", status=status, error=error, message=_page_message(error)), status

    @app.errorhandler(OperationalError)
    def _transient(error: OperationalError) -> Any:
        # A lock timeout, a dropped connection, a database restarting: nothing was committed,
        # and the same request will likely succeed shortly. Say so, so phones retry.
        db.session.rollback()
        if _storage_full(error):
            # Not transient: the operator must free space. Still nothing was saved, and the
            # phone keeps its outbox and retries later.
            app.logger.error("storage full: %s", describe(error))
            status, code, retry = 507, "storage_full", "300"
            detail = "the server's storage is full; nothing was saved, try again later / 服务器存储已满，未保存任何内容，请稍后再试"
        else:
            app.logger.warning("transient database error: %s", describe(error))
            status, code, retry = 503, "unavailable", "5"
            detail = "the registry is busy; nothing was saved, please retry / 系统繁忙，未保存任何内容，请稍后重试"
        if wants_json():
            response = problem(status, detail, code)
        else:
            response = app.make_response((render_template("error.html", status=status, error=None), status))
        response.headers["Retry-After"] = retry
        return response

    @app.errorhandler(StaleDataError)
    @app.errorhandler(IntegrityError)
    def _raced(error: Exception) -> Any:
        # Two people acting on one record at the same moment (a double-click, two tabs): the
        # version check or a unique index refused the second write at flush, after the view's
        # own checks had passed. Nothing of the request was saved; a 409 says why, not a 500.
        db.session.rollback()
        app.logger.warning("concurrent write refused: %s", describe(error))
        return _http(HTTPConflict(_("Someone else changed this at the same moment; nothing of yours was saved. "
                                "Reload the page, check and try again.")))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        # Roll back so the next request on this worker does not inherit a broken transaction.
        db.session.rollback()
        if isinstance(error, DBAPIError):
            # Where it failed, and which rule refused what; not the error's own text, which
            # may quote the row (webapp/base/dberrors.py).
            app.logger.error("unhandled error: %s\n%s", describe(error), "".join(traceback.format_tb(error.__traceback__)))
        else:
            app.logger.exception("unhandled error")
        return _http(InternalServerError())


def _page_message(error: HTTPException) -> str:
    """What the error page says, in the page's language. A description the app wrote is its
    own (already both languages, or translated); werkzeug's and Flask-WTF's own are English
    only, and a Chinese page showed "The CSRF token is missing." to someone whose form expired."""
    if isinstance(error, CSRFError):
        return _("This form has expired or was not sent from this site. Reload the page and try again: "
                 "what you entered may need to be entered again.")
    if error.description and error.description != type(error).description:
        return str(error.description)
    generic = {
        400: _("The request could not be understood. Check what you entered (a date, a number) and try again."),
        405: _("This page cannot be used that way. Go back and use the page's own buttons."),
        409: _("This clashes with the record as it is now. Reload the page and try again."),
        415: _("This kind of file or content is not accepted here."),
        429: _("Too many requests for now. Please wait a moment and try again."),
    }
    return generic.get(error.code or 0, _("The request could not be completed. Go back and try again."))


def _storage_full(error: BaseException) -> bool:
    """SQLite's SQLITE_FULL, or PostgreSQL's disk_full (SQLSTATE 53100), also when it is the
    cause of the error raised: SQLite ends the whole transaction on a full disk, so leaving a
    savepoint (a push's write, sync/write.py) then fails with "no such savepoint"."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        orig = getattr(current, "orig", current)
        if "database or disk is full" in str(orig).lower() or getattr(orig, "sqlstate", None) == "53100":
            return True
        current = current.__cause__ or current.__context__
    return False

"""/h/<code>: what anyone who scans a plate sees. No login; never any personal data.

The page shows the address (it is on the door anyway) and public information: the
residents' committee and the service contacts from the settings; and whether a 合法稳定住所
certificate (number and check code) was issued for this house, with its date and basis. Occupants, their number,
the house's use or flags are never loaded into this page's template context at all.
"""
from __future__ import annotations

from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from webapp.extensions import db
from webapp.public import bp, messages
from webapp.public.forms import DeclarationForm
from webapp.registry import residence_decisions
from webapp.registry.code_lookup import Lookup, Outcome, look_up
from webapp.registry.ratelimit import hit
from webapp.registry.tasks import client_key, create_task


# Enough for a resident or a school checking a few certificates; too few to guess a check code
# (31^6 of them) by trying.
CERTIFICATE_CHECKS_PER_HOUR = 20


@bp.after_request
def _public_headers(response: Any) -> Any:
    # Addresses should not end up in search engines; the form's CSRF token is per visitor.
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    g.no_store = True
    return response


@bp.errorhandler(CSRFError)
def _expired(_error: CSRFError) -> Any:
    return _message(messages.EXPIRED, 400)


# `path`, so that anything under /h/ (slashes too) gets the bilingual answer, not the console 404.
@bp.route("/h/<path:code>", methods=["GET", "POST"])
def house(code: str) -> Any:
    found = look_up(db.session, code)
    if found.outcome is not Outcome.LIVE or found.house is None:
        return _not_live(found)
    form = DeclarationForm()
    status, limited = 200, None
    if request.method == "POST":
        cfg = current_app.config
        sender = client_key(request.remote_addr, cfg["SECRET_KEY"])
        # Every attempt counts against the sender's network; only a report that would be
        # accepted counts against the plate. Five junk posts from one phone used to block a
        # plate's reports for everyone for an hour.
        limited = _over_limit(f"task:ip:{sender}", cfg["TASK_LIMIT_PER_IP"])
        if limited is None and form.validate_on_submit():
            limited = _over_limit(f"task:house:{found.house.id}", cfg["TASK_LIMIT_PER_PLATE"])
            if limited is None:
                create_task(db.session, found.house, form.kind.data, form.text.data or "",
                            contact_phone=form.parsed_phone, client_ip_hash=sender)
                # Not audited: the audit log keeps raw addresses, and a task is not anyone's
                # access to personal data. The task row itself says when and (hashed) from where.
                db.session.commit()
                flash(_("Thank you. Your report was passed to the community workers of this area."), "ok")
                return redirect(url_for("public.house", code=found.code), code=303)
        status = 422 if limited is None else 429
    cell = found.house.cell
    verified, asked = None, request.method == "GET" and "certificate" in request.args
    if asked:
        refused = _over_verify_limit()
        if refused is not None:
            return refused
        check = residence_decisions.verify(db.session, found.house, request.args.get("certificate", ""),
                                           request.args.get("check", ""))
        # Only what the certificate itself says about the house: never whose it is.
        verified = None if check is None else {"number": check.certificate_no, "on": check.checked_at,
                                               "basis": check.basis}
    page = render_template(
        "public/house.html", address=found.house.address, code=found.code, form=form,
        committee=cell.committee.name if cell is not None else None,
        service_phone=current_app.config["PUBLIC_SERVICE_PHONE"],
        notice=current_app.config["PUBLIC_NOTICE"], verified=verified, asked=asked,
        # The number and the address digest go with the report's other personal data
        # (`flask purge-tombstones`, webapp/registry/retention.py).
        retention_days=current_app.config["TOMBSTONE_RETENTION_DAYS"],
        limited=messages.too_many(limited) if limited else None,
    )
    # Over a limit, the page comes back with the form as it was typed: nothing is lost.
    headers = {"Retry-After": str(limited)} if limited else {}
    return page, status, headers


def _over_verify_limit() -> Any | None:
    """Certificate checks per client address: a check code must not be guessed by trying."""
    cfg = current_app.config
    sender = client_key(request.remote_addr, cfg["SECRET_KEY"])
    decision = hit(db.session, f"cert:ip:{sender}", CERTIFICATE_CHECKS_PER_HOUR, 3600)
    db.session.commit()
    if decision.allowed:
        return None
    response = _message(messages.too_many(decision.retry_after), 429)
    response.headers["Retry-After"] = str(decision.retry_after)
    return response


def _over_limit(key: str, limit: int) -> int | None:
    """Count one hit on `key` in the reports' window: None while allowed, else the seconds to
    wait. Committed now, whatever happens to the report."""
    decision = hit(db.session, key, limit, current_app.config["TASK_LIMIT_WINDOW_S"])
    db.session.commit()
    return None if decision.allowed else decision.retry_after


def _not_live(found: Lookup) -> Any:
    if found.outcome is Outcome.RETIRED:
        return _message(messages.RETIRED, 410)
    if found.outcome is Outcome.TOO_LONG:
        return _message(messages.TOO_LONG, 400, rescan=True)
    if found.outcome is Outcome.INVALID and found.error is not None:
        # The validator's own words say what is wrong (length, check); it never repeats the
        # characters typed for these, so nothing from the address bar is echoed.
        detail = found.error if found.error.code != "house_code.format" else None
        return _message(messages.INVALID, 404, detail=detail, rescan=True)
    return _message(messages.UNKNOWN, 404, rescan=True)


def _message(message: messages.Message, status: int, detail: Any = None, rescan: bool = False) -> Any:
    page = render_template("public/message.html", message=message, detail=detail,
                           rescan=messages.RESCAN if rescan else None)
    return current_app.response_class(page, status=status, mimetype="text/html")

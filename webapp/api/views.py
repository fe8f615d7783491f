"""The sync API: register a device, push, pull. Thin: parse, authenticate, call sync/."""
from __future__ import annotations

import gzip
import json
from typing import Any

from flask import current_app, jsonify, make_response, request
from sqlalchemy import select

from sync import devices
from sync.batch import ACCEPTED_PROTOCOLS, PROTOCOL, BatchInvalid, parse_batch, storable_text
from sync.pull import CursorInvalid, needs_record, pull, record
from sync.push import apply_batch
from webapp import audit
from webapp.api import bp
from webapp.api.body import BodyRefused
from webapp.api.body import parse as parse_body
from webapp.api.openapi import document
from webapp.auth import throttle
from webapp.auth.passwords import check_login, is_locked
from webapp.dbsetup import sqlite_begin
from webapp.errors import problem
from webapp.extensions import csrf, db
from webapp.models import Device, User

# Bearer tokens, not cookies: cross-site requests cannot carry them, so no CSRF token.
csrf.exempt(bp)


class Refused(Exception):
    """Stop handling the request with this problem+json response."""

    def __init__(self, response: Any) -> None:
        self.response = response


@bp.errorhandler(Refused)
def _refused(error: Refused) -> Any:
    return error.response


def _json_object() -> dict[str, Any]:
    if not request.is_json:
        raise Refused(problem(415, "send JSON (Content-Type: application/json) / 请以 JSON 提交",
                              "unsupported_media_type"))
    try:
        body = parse_body(request.get_data(cache=True))
    except BodyRefused as refused:
        raise Refused(problem(refused.status, refused.detail, refused.code)) from None
    if not isinstance(body, dict):
        raise Refused(problem(422, "the body must be a JSON object / 请求体必须是 JSON 对象", "invalid_batch"))
    return body


def _device() -> Device:
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.startswith("Bearer ") else None
    try:
        return devices.authenticate(db.session, token)
    except devices.DeviceRefused as refused:
        status = 403 if refused.code == "device_revoked" else 401
        raise Refused(problem(status, refused.detail, refused.code,
                              wipe_after_handover=refused.code == "device_revoked")) from None


@bp.route("/devices", methods=["POST"])
def register_device() -> Any:
    body = _json_object()
    username, password = str(body.get("username") or ""), str(body.get("password") or "")
    wait = throttle.retry_after(db.session)
    if wait:
        audit.record("login_throttled", "user", None, username=username[:64], via="api")
        db.session.commit()
        response = problem(429, "too many failed logins from this address; try again later / "
                           "此地址登录失败次数过多，请稍后再试", "too_many_attempts", retry_after=wait)
        response.headers["Retry-After"] = str(wait)
        return response
    # A username with control characters cannot exist (and PostgreSQL refuses NUL in a query).
    user = db.session.scalar(select(User).where(User.username == username.strip())) if username.isprintable() else None
    if not check_login(user, password) or user is None:
        locked = user is not None and is_locked(user)
        throttle.count_failure(db.session)
        audit.record("device_login_failed", "user", user.id if user else None, username=username[:64])
        db.session.commit()
        return problem(401, "wrong username or password / 用户名或密码错误" if not locked else
                       "account locked after repeated failures / 多次失败，账号已暂时锁定", "login_failed")
    if not (storable_text(body.get("label")) and storable_text(body.get("app_version"))):
        return problem(422, "label and app_version must be text / label 和 app_version 必须是文本", "invalid_device")
    registration = devices.register(db.session, user, body.get("label"), body.get("app_version"))
    audit.record("device_registered", "device", registration.device.id, as_user_id=user.id)
    db.session.commit()
    return jsonify({"device_id": str(registration.device.id), "token": registration.token,
                    "protocol": PROTOCOL, "user": {"username": user.username, "display_name": user.display_name,
                                                   "role": user.role, "id": user.id}}), 201


@bp.route("/sync/push", methods=["POST"])
def push() -> Any:
    device = _device()
    body = _json_object()
    try:
        batch = parse_batch(body)
    except BatchInvalid as invalid:
        status = 426 if invalid.code == "protocol_outdated" else 413 if invalid.code == "batch_too_large" else 422
        return problem(status, invalid.detail, invalid.code, protocol=PROTOCOL)
    result = apply_batch(db.session, device, batch)
    db.session.commit()
    return jsonify({"protocol": PROTOCOL, "last_seq": result.last_seq,
                    "outcomes": [o.to_wire() for o in result.outcomes]})


@bp.route("/sync/pull", methods=["GET"])
def pull_changes() -> Any:
    device = _device()
    protocol = request.args.get("protocol", type=int)
    if protocol not in ACCEPTED_PROTOCOLS:
        return problem(426, f"protocol {protocol!r} is not accepted; update the app", "protocol_outdated",
                       protocol=PROTOCOL)
    limit = min(max(request.args.get("limit", 2000, type=int), 1), 10_000)
    try:
        page = pull(db.session, device, request.args.get("cursor") or None, limit=limit)
    except CursorInvalid:
        return problem(422, "unknown cursor: start again without one / 游标无效，请重新完整同步", "cursor_invalid")
    persons = len(page.changes.get("person", []))
    note_device = needs_record(device, page)
    device_id, user_id = device.id, device.user_id  # the commit below expires the row
    # The page was read in a reading transaction (on SQLite it waited for no writer); what
    # the pull leaves behind goes in a short writing one, and most pages leave nothing.
    db.session.commit()
    if persons or note_device:
        token = sqlite_begin.set("IMMEDIATE")
        try:
            if note_device:
                record(device, page)
            if persons:
                # Full person records (ID numbers included) left for a phone: an export (PIPL art. 56).
                audit.record("sync_pull", "device", device_id, as_user_id=user_id, persons=persons,
                             snapshot=page.snapshot)
            db.session.commit()
        finally:
            sqlite_begin.reset(token)
    body = json.dumps({"protocol": PROTOCOL, **page.to_wire()}, ensure_ascii=False, separators=(",", ":"))
    response = make_response(body)
    response.mimetype = "application/json"
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response.set_data(gzip.compress(body.encode(), compresslevel=current_app.config.get("PULL_GZIP_LEVEL", 6)))
        response.headers["Content-Encoding"] = "gzip"
        response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/openapi.json")
def openapi() -> Any:
    return jsonify(document())

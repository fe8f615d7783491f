"""The sync API: register a device, push, pull. Thin: parse, authenticate, call sync/."""
from __future__ import annotations

import json
from typing import Any

from flask import current_app, jsonify, make_response, request
from sqlalchemy import select

from sync import devices, sealed
from sync import protocol as versions
from sync.batch import PROTOCOL, BatchInvalid, check_protocol, parse_batch, storable_text
from sync.pull import CursorInvalid, needs_record, pull, record
from sync.push import apply_batch
from geo.assign import CellFinder
from webapp import audit
from webapp.api import bp
from webapp.base.json_body import BodyRefused
from webapp.base.json_body import parse as parse_body
from webapp.api.encoding import EncodingRefused, choose, compress, expand
from webapp.api.openapi import document
from webapp.auth import delays, throttle, typed_name
from webapp.auth.passwords import check_login
from webapp.base.dbsetup import reads_only, sqlite_begin
from webapp.errors import problem
from webapp.extensions import csrf, db
from webapp.models import Device, User
from webapp.models.enums import Role
from webapp.query_args import whole_number
from webapp.registry import changelog
from webapp.registry.scope import allowed
from webapp.base.timeutil import utcnow

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
        cap = current_app.config["PUSH_MAX_EXPANDED_MB"] * 1024 * 1024
        raw = expand(request.get_data(cache=True), request.headers.get("Content-Encoding", ""), cap)
    except EncodingRefused as refused:
        raise Refused(problem(refused.status, refused.detail, refused.code)) from None
    try:
        body = parse_body(raw)
    except BodyRefused as refused:
        raise Refused(problem(refused.status, refused.detail, refused.code)) from None
    if not isinstance(body, dict):
        raise Refused(problem(422, "the body must be a JSON object / 请求体必须是 JSON 对象", "invalid_batch"))
    return body


def _device(*, lock: bool = False) -> Device:
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.startswith("Bearer ") else None
    try:
        return devices.authenticate(db.session, token, idle_days=current_app.config["DEVICE_IDLE_DAYS"], lock=lock)
    except devices.DeviceRefused as refused:
        status = 403 if refused.code == "device_revoked" else 401
        raise Refused(problem(status, refused.detail, refused.code,
                              wipe_after_handover=refused.code == "device_revoked")) from None


# One answer for an unknown user, a wrong password and a disabled account, so that a login
# cannot tell which usernames exist (the console says the same: webapp/auth/views.py).
WRONG_LOGIN = "wrong username or password / 用户名或密码错误"


def _delayed(wait: int, detail: str) -> Any:
    response = problem(429, detail, "too_many_attempts", retry_after=wait)
    response.headers["Retry-After"] = str(wait)
    return response


@bp.route("/devices", methods=["POST"])
def register_device() -> Any:
    body = _json_object()
    username, password = str(body.get("username") or ""), str(body.get("password") or "")
    username = username.strip()
    wait = throttle.retry_after(db.session)
    if wait:
        audit.record("login_throttled", "user", None, username=typed_name.for_the_log(db.session, username), via="api")
        db.session.commit()
        return _delayed(wait, "too many failed logins from this address; try again later / "
                              "此地址登录失败次数过多，请稍后再试")
    wait = delays.retry_after(db.session, username)
    if wait:
        # The same for every username, existing or not: only this network's failures count.
        return _delayed(wait, f"{WRONG_LOGIN}; wait {wait} s before trying again / 请 {wait} 秒后再试")
    # A username with control characters cannot exist (and PostgreSQL refuses NUL in a query).
    user = db.session.scalar(select(User).where(User.username == username)) if username.isprintable() else None
    if not check_login(user, password) or user is None:
        throttle.count_failure(db.session)
        delays.count_failure(db.session, username)
        audit.record("device_login_failed", "user", user.id if user else None,
                     username=typed_name.for_the_log(db.session, username, user is not None))
        db.session.commit()
        return problem(401, WRONG_LOGIN, "login_failed")
    # The password was right: only now may an answer depend on who the user is.
    delays.clear(db.session, username)
    refusal = _refusal(user)
    if refusal is not None:
        audit.record("device_refused", "user", user.id, as_user_id=user.id, code=refusal.get_json()["code"])
        db.session.commit()
        return refusal
    if not (storable_text(body.get("label")) and storable_text(body.get("app_version"))):
        db.session.commit()
        return problem(422, "label and app_version must be text / label 和 app_version 必须是文本", "invalid_device")
    replaces = body.get("replaces")
    if replaces is not None and not (isinstance(replaces, str) and storable_text(replaces)):
        db.session.commit()
        return problem(422, "replaces must be the phone's current token / replaces 必须是本机当前的令牌",
                       "invalid_device")
    cfg = current_app.config
    try:
        registration = devices.register(db.session, user, body.get("label"), body.get("app_version"),
                                        cap=cfg["DEVICES_PER_USER"], idle_days=cfg["DEVICE_IDLE_DAYS"],
                                        replaces=replaces or None)
    except devices.DeviceRefused as refused:
        db.session.rollback()  # the replaced token too: a refused login changes nothing
        delays.clear(db.session, username)
        audit.record("device_refused", "user", user.id, as_user_id=user.id, code=refused.code)
        db.session.commit()
        return problem(409, refused.detail, refused.code, devices_per_user=cfg["DEVICES_PER_USER"])
    if registration.replaced is not None:
        audit.record("device_replaced", "device", registration.replaced.id, as_user_id=user.id,
                     by_device=str(registration.device.id))
    audit.record("device_registered", "device", registration.device.id, as_user_id=user.id)
    db.session.commit()
    return jsonify({"device_id": str(registration.device.id), "token": registration.token,
                    "protocol": PROTOCOL, "user": {"username": user.username, "display_name": user.display_name,
                                                   "role": user.role, "id": user.id},
                    "rescue_key": sealed.server_key(cfg["SECRET_KEY"]).public()}), 201


@bp.route("/rescue-key", methods=["GET"])
def rescue_key() -> Any:
    """The key a phone seals its rescue file to (docs/sync.md §6.1). Public, as a public key
    is: a phone registered before sealing existed asks for it without being asked who it is."""
    response = jsonify(sealed.server_key(current_app.config["SECRET_KEY"]).public())
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


# Roles that change nothing in the registry hold no phone (PERMISSIONS["device"]): the phone
# would only be a copy of personal data to lose.
NO_DEVICE = {
    Role.POLICE: "police logins are read-only and cannot register a phone: use the console on a computer / "
                 "派出所账号只读，不能登记手机；请在电脑上使用控制台",
    Role.REPORTER: "community reporters' logins cannot register the field app: report from the web page "
                   "(/community) / 社区报告员账号不能登记采集手机；请在网页（/community）上报告",
}


def _refusal(user: User) -> Any | None:
    """Why this user may not register a phone, asked only once their password was right."""
    if not allowed(user.role, "device"):
        detail = NO_DEVICE.get(user.role, "this login's role cannot register a phone / 此账号的角色不能登记手机")
        return problem(403, detail, "role_no_device")
    if user.must_change_password:
        return problem(403, "this login has a temporary password: change it in the console first (/account), "
                            "then log in here with the new one / 此账号使用的是临时密码：请先在控制台（/account）"
                            "修改密码，再用新密码登录",
                       "password_change_required")
    return None


# A batch's refusal as HTTP: an old app must update, a newer one wait for the server.
BATCH_STATUS = {"protocol_outdated": 426, "protocol_unsupported": 400, "batch_too_large": 413}


def _served() -> frozenset[int]:
    """The versions served today: protocol 1 only for its days of grace (sync/protocol.py)."""
    return versions.accepted(db.session, utcnow(), current_app.config["PROTOCOL_PREVIOUS_DAYS"])


def _answer(data: dict[str, Any]) -> Any:
    """JSON in the best coding the client accepts (webapp/api/encoding.py), never cached."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    sent, coding = compress(body, choose(request.accept_encodings), current_app.config.get("PULL_GZIP_LEVEL", 6))
    response = make_response(sent)
    response.mimetype = "application/json"
    if coding:
        response.headers["Content-Encoding"] = coding
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/sync/push", methods=["POST"])
def push() -> Any:
    # The body first, however slowly a weak signal brings it, and only then the database: on
    # SQLite the device's lock is the one writer's, and every other phone's push waited behind
    # an upload (tests/test_slow_upload.py). Bytes only: expanding and parsing wait for the token.
    request.get_data(cache=True)
    device = _device(lock=True)  # one push per phone at a time (sync.push.apply_batch)
    changelog.set_door(db.session, "phone", device.id)  # the history names the phone
    body = _json_object()
    try:
        batch = parse_batch(body, _served())
    except BatchInvalid as invalid:
        return problem(BATCH_STATUS.get(invalid.code, 422), invalid.detail, invalid.code, protocol=PROTOCOL)
    result = apply_batch(db.session, device, batch, locate=CellFinder(db.session), device_locked=True)
    answer = {"protocol": batch.protocol, "last_seq": result.last_seq,
              "outcomes": [o.to_wire(batch.protocol) for o in result.outcomes]}
    if batch.pull is None:
        db.session.commit()
        return _answer(answer)
    _commit_keeping(device, device.user)
    # The pull that follows, in the same round trip: read after the commit, as a pull request
    # would be (on SQLite in a reading transaction, waiting for no writer). A cursor the server
    # refuses leaves the page out; the phone's own pull then learns why.
    with reads_only():
        try:
            answer["pull"] = {"protocol": batch.protocol,
                              **_page(device, batch.pull.cursor, batch.pull.limit, batch.protocol)}
        except CursorInvalid:
            db.session.rollback()
    return _answer(answer)


def _commit_keeping(*kept: Any) -> None:
    """Commit, and keep these objects as committed rather than expire them: the pull a push
    carries reads the device and its user, and loading them again was 7 % of such a sync's
    CPU. The push told the device row what it wrote (`sync.push._note_push`); the rest expire."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
    keep = {id(o) for o in kept}
    for instance in list(session.identity_map.values()):
        if id(instance) not in keep:
            session.expire(instance)


@bp.route("/sync/pull", methods=["GET"])
def pull_changes() -> Any:
    device = _device()
    raw = request.args.get("protocol", "")
    # A number only within 19 digits: past 4,300 int() itself refuses (a 500 it was).
    number = raw.isascii() and raw.lstrip("-").isdigit() and len(raw) <= 19
    try:
        protocol = check_protocol(int(raw) if number else raw or None, _served())
    except BatchInvalid as invalid:
        return problem(BATCH_STATUS.get(invalid.code, 422), invalid.detail, invalid.code, protocol=PROTOCOL)
    limit = whole_number(request.args.get("limit", str(versions.PULL_LIMIT_DEFAULT)), versions.PULL_LIMIT_MAX)
    if not limit:  # not a whole number, 0, or past the most
        return problem(422, f"limit must be a whole number from 1 to {versions.PULL_LIMIT_MAX} / "
                            f"limit 必须是 1 到 {versions.PULL_LIMIT_MAX} 的整数", "invalid_limit")
    try:
        page = _page(device, request.args.get("cursor") or None, limit, protocol)
    except CursorInvalid:
        return problem(422, "unknown cursor: start again without one / 游标无效，请重新完整同步", "cursor_invalid")
    return _answer({"protocol": protocol, **page})


def _cursor_key() -> bytes:
    """What seals the pull's cursors (sync/pull.py: a phone cannot make one): the app's secret
    key. A new key makes every phone's cursor invalid once: each pulls a snapshot again."""
    secret = current_app.config["SECRET_KEY"]
    return secret if isinstance(secret, bytes) else str(secret).encode()


def _page(device: Device, cursor: str | None, limit: int, protocol: int) -> dict[str, Any]:
    """One pull page as wire data, for a pull request or a push that carries one. Raises
    CursorInvalid (nothing written then)."""
    page = pull(db.session, device, cursor, limit=limit, protocol=protocol, key=_cursor_key())
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
    return page.to_wire(protocol)


@bp.route("/openapi.json")
def openapi() -> Any:
    return jsonify(document())

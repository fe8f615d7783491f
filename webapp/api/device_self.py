"""POST /api/devices/self/revoke: a phone logging out ends its own token on the server.

Without it a logged-out phone's token stays valid until the committee revokes it by hand.
The bearer token names the device; a device already revoked answers 200 again (the phone
retries after a lost answer), an unknown token 401. The phone should push its outbox first:
what it still holds after this can only reach the registry as a rescue file.
"""
from __future__ import annotations

from typing import Any

from flask import jsonify, request
from sync import devices
from webapp import audit
from webapp.api import bp
from webapp.errors import problem
from webapp.extensions import db


@bp.route("/devices/self/revoke", methods=["POST"])
def revoke_self() -> Any:
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.startswith("Bearer ") else ""
    # Not devices.authenticate: that refuses a revoked device or a disabled user, and both may
    # still end their own token.
    device = devices.by_token(db.session, token)
    if device is None:
        return problem(401, "unknown device token / 设备令牌无效" if token else "missing device token / 缺少设备令牌",
                       "device_unknown")
    already = device.revoked_at is not None
    if not already:
        devices.revoke(db.session, device, device.user_id)
        audit.record("device_self_revoked", "device", device.id, as_user_id=device.user_id, pending=device.pending)
        db.session.commit()
    return jsonify({"device_id": str(device.id), "revoked_at": device.revoked_at.isoformat(),
                    "already_revoked": already, "pending": device.pending})

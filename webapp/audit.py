"""Recording who saw or changed what (PIPL art. 56)."""
from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from webapp.extensions import db
from webapp.models import AuditEntry


def record(action: str, object_type: str | None = None, object_id: object = None, *,
           as_user_id: int | None = None, **detail: Any) -> None:
    """Add an audit row to the current transaction: it commits with the work it describes.

    `as_user_id` names the user where there is no console login (a phone's bearer token)."""
    user_id = as_user_id
    if user_id is None and has_request_context():
        user_id = getattr(current_user, "id", None)
    ip = request.remote_addr if has_request_context() else None
    db.session.add(AuditEntry(
        user_id=user_id, action=action, object_type=object_type,
        object_id=str(object_id) if object_id is not None else None, ip=ip, detail=detail,
    ))

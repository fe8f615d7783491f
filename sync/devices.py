"""Devices: registered once at login, then every sync call names the device by its token."""
from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from webapp.models import Device, User
from webapp.timeutil import utcnow


class DeviceRefused(Exception):
    """The token is unknown, or the device was revoked (the app must hand over and wipe)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Registration:
    device: Device
    token: str  # shown once; only its hash is stored


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def register(session: Session, user: User, label: str | None, app_version: str | None) -> Registration:
    token = secrets.token_urlsafe(32)
    device = Device(id=uuid.uuid4(), user_id=user.id, label=(label or "")[:100] or None,
                    token_hash=_hash(token), app_version=(app_version or "")[:32] or None,
                    last_seen_at=utcnow())
    session.add(device)
    session.flush()
    return Registration(device, token)


def by_token(session: Session, token: str) -> Device | None:
    """The device a token names, revoked or not (a revoked phone may still end its own token)."""
    return session.scalar(select(Device).where(Device.token_hash == _hash(token))) if token else None


def authenticate(session: Session, token: str | None) -> Device:
    if not token:
        raise DeviceRefused("device_unknown", "missing device token / 缺少设备令牌")
    # With its user in the same round trip: every sync call checks that the user is active.
    device = session.scalar(select(Device).options(joinedload(Device.user))
                            .where(Device.token_hash == _hash(token)))
    if device is None:
        raise DeviceRefused("device_unknown", "unknown device token / 设备令牌无效")
    if device.revoked_at is not None:
        raise DeviceRefused(
            "device_revoked",
            "this device was revoked: hand over unsynced work (export the outbox), then wipe local "
            "data / 此设备已停用：请先导出未同步的数据交给中心，再清除本机数据",
        )
    user = device.user
    if not user.active:
        raise DeviceRefused("user_inactive", "the user of this device is disabled / 此设备的用户已停用")
    return device


def revoke(session: Session, device: Device, by_user_id: int) -> None:
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        device.revoked_by_id = by_user_id

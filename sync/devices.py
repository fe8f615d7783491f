"""Devices: registered once at login, then every sync call names the device by its token.

A token ends when it is revoked (by the committee or centre, by the phone at logout, or with
its user's deactivation) or after `idle_days` without a sync; a user holds at most `cap`
live tokens. The settings come from the caller (webapp/api/views.py): no Flask here.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from webapp.base.ids import new_id
from sync.state import is_postgresql
from webapp.models import Device, User
from webapp.base.timeutil import utcnow


class DeviceRefused(Exception):
    """The token is unknown, revoked or expired, or a registration is over the cap."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Registration:
    device: Device
    token: str  # shown once; only its hash is stored
    replaced: Device | None = None  # the phone's previous token, revoked in the same transaction


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def last_sync(device: Device) -> datetime:
    """When the phone last synced (or registered): what its expiry counts from."""
    return max(t for t in (device.created_at, device.last_seen_at, device.last_push_at, device.last_pull_at) if t)


def is_expired(device: Device, idle_days: int | None, now: datetime | None = None) -> bool:
    return idle_days is not None and last_sync(device) < (now or utcnow()) - timedelta(days=idle_days)


def is_live(device: Device, idle_days: int | None, now: datetime | None = None) -> bool:
    return device.revoked_at is None and not is_expired(device, idle_days, now)


def live_devices(session: Session, user: User, idle_days: int | None, now: datetime | None = None) -> list[Device]:
    unrevoked = session.scalars(select(Device).where(Device.user_id == user.id, Device.revoked_at.is_(None)))
    return [d for d in unrevoked if not is_expired(d, idle_days, now)]


def register(session: Session, user: User, label: str | None, app_version: str | None, *,
             cap: int | None = None, idle_days: int | None = None, replaces: str | None = None) -> Registration:
    """A new token for `user`'s phone. `replaces` is the phone's current token (a new login on
    the same phone): if it is the same user's and not yet revoked, it is revoked here, before
    the cap of `cap` live tokens is counted, so logging in again never needs a free place."""
    now = utcnow()
    replaced = by_token(session, replaces) if replaces else None
    if replaced is not None and replaced.user_id == user.id and replaced.revoked_at is None:
        revoke(session, replaced, user.id)
    else:
        replaced = None  # another user's, unknown or already ended: nothing to do, nothing to say
    if cap is not None and len(live_devices(session, user, idle_days, now)) >= cap:
        raise DeviceRefused(
            "too_many_devices",
            f"this login already has {cap} phones registered: log out of the app on a phone you no longer use, "
            f"or ask the residents' committee or the centre to end one in the console's device list / "
            f"此账号已登记 {cap} 部手机：请在不再使用的手机上退出登录，或请居委会、中心在控制台的设备列表中停用一部")
    token = secrets.token_urlsafe(32)
    device = Device(id=new_id(), user_id=user.id, label=(label or "")[:100] or None,
                    token_hash=_hash(token), app_version=(app_version or "")[:32] or None,
                    last_seen_at=now)
    session.add(device)
    session.flush()
    return Registration(device, token, replaced)


def by_token(session: Session, token: str) -> Device | None:
    """The device a token names, revoked or not (a revoked phone may still end its own token)."""
    return session.scalar(select(Device).where(Device.token_hash == _hash(token))) if token else None


def authenticate(session: Session, token: str | None, idle_days: int | None = None, *,
                 lock: bool = False) -> Device:
    """The live device a token names. `lock`: on PostgreSQL, also lock its row until the
    transaction ends (a push: one per device at a time, see `sync.push.apply_batch`)."""
    if not token:
        raise DeviceRefused("device_unknown", "missing device token / 缺少设备令牌")
    lock = lock and is_postgresql(session)
    device = session.scalar(_by_token(lock), {"token_hash": _hash(token)})
    if device is None:
        raise DeviceRefused("device_unknown", "unknown device token / 设备令牌无效")
    if device.revoked_at is not None:
        raise DeviceRefused(
            "device_revoked",
            "this device was revoked: hand over unsynced work (export the outbox), then wipe local "
            "data / 此设备已停用：请先导出未同步的数据交给中心，再清除本机数据",
        )
    if is_expired(device, idle_days):
        # Not a revocation: the outbox stays on the phone, and the new login's token pushes it.
        raise DeviceRefused(
            "device_expired",
            f"this phone has not synced for over {idle_days} days, so its login has expired: log in again "
            f"online (unsynced work stays on the phone and is sent after the login) / "
            f"本机已超过 {idle_days} 天未同步，登录已过期：请联网重新登录（未同步的数据保留在本机，登录后继续上传）")
    user = device.user
    if not user.active:
        raise DeviceRefused("user_inactive", "the user of this device is disabled / 此设备的用户已停用")
    return device


@cache
def _by_token(lock: bool) -> Any:
    # With its user in the same round trip: every sync call checks that the user is active.
    query = select(Device).options(joinedload(Device.user)).where(Device.token_hash == bindparam("token_hash"))
    return query.with_for_update(of=Device) if lock else query


def revoke(session: Session, device: Device, by_user_id: int | None) -> None:
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        device.revoked_by_id = by_user_id


def revoke_all(session: Session, user: User, by_user_id: int | None) -> int:
    """Revoke every token of the user not yet revoked (deactivation); return how many."""
    devices = list(session.scalars(select(Device).where(Device.user_id == user.id, Device.revoked_at.is_(None))))
    for device in devices:
        revoke(session, device, by_user_id)
    return len(devices)

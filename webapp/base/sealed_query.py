"""A search query sealed for an address: the console's search box posts, then redirects to a GET
that carries the query encrypted (Fernet) and bound to the user who typed it, so Back and
reload repeat a GET, and an ID or phone number typed is in no address in clear. The merge
page's "Show both" and the audit log's filters do the same with their fields (`seal_fields`),
each token bound to its page as well.

The key comes from SECRET_KEY by HKDF, with its own info string (sync/sealed.py derives the
rescue key the same way): nothing to keep, and a former key listed in SECRET_KEY_FALLBACKS
still opens what it sealed.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from webapp.base.timeutil import utcnow

_INFO = b"gridwalk-search/1"


def seal(secrets: Sequence[str], user_id: int, query: str) -> str:
    """`query` sealed for `user_id` under the first of `secrets` (SECRET_KEY, then fallbacks)."""
    plain = json.dumps({"u": user_id, "q": query}, ensure_ascii=False).encode("utf-8")
    return _keys(tuple(secrets)).encrypt_at_time(plain, _now()).decode("ascii")


def open_sealed(secrets: Sequence[str], user_id: int, token: str, ttl: int) -> str | None:
    """The query in `token`; None if it is older than `ttl` seconds, altered, or not `user_id`'s."""
    try:
        payload = json.loads(_keys(tuple(secrets)).decrypt_at_time(token, ttl, _now()))
        user, query = payload["u"], payload["q"]
    except (InvalidToken, ValueError, TypeError, KeyError):
        return None
    return query if user == user_id and isinstance(query, str) else None


def seal_fields(secrets: Sequence[str], user_id: int, door: str, fields: dict[str, str]) -> str:
    """A form's fields sealed for `user_id`, for the page `door` only (the combine page, the
    audit log's filter): a token made for one page, or the search's, opens on no other."""
    return seal(secrets, user_id, json.dumps({"door": door, "fields": fields}, ensure_ascii=False))


def open_fields(secrets: Sequence[str], user_id: int, door: str, token: str, ttl: int) -> dict[str, str] | None:
    """The fields in `token` if it was sealed for `door` and opens as `open_sealed` does; else None."""
    opened = open_sealed(secrets, user_id, token, ttl)
    try:
        payload = json.loads(opened) if opened is not None else None
    except ValueError:
        return None
    if not isinstance(payload, dict) or payload.get("door") != door or not isinstance(payload.get("fields"), dict):
        return None
    fields = payload["fields"]
    return {k: v for k, v in fields.items() if isinstance(k, str) and isinstance(v, str)}


def _now() -> int:
    # The clock of webapp.base.timeutil, read here, so a test can make a token old.
    return int(utcnow().timestamp())


@lru_cache(maxsize=4)
def _keys(secrets: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(base64.urlsafe_b64encode(_derive(secret))) for secret in secrets])


def _derive(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode("utf-8"))

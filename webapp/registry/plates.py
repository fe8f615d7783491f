"""Door plates (一户一码): each house's plate code, the URL its QR carries, and the QR itself.

Pure Python over a SQLAlchemy session (no Flask), so the CLI, the console and tests share it.

A plate code is derived from the house's UUID (an unkeyed hash, like the temporary field
code), so the same house gets the same code whoever runs the assignment, and codes are not
sequential: walking the number space does not list the subdistrict's addresses.
"""
from __future__ import annotations

import hashlib
import io
import ipaddress
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# qrcode 8.2 ships no types (nor do the requirements hold its stubs): untyped.
import qrcode  # type: ignore[import-untyped]
import qrcode.constants  # type: ignore[import-untyped]
from qrcode.image.svg import SvgPathFillImage  # type: ignore[import-untyped]
from sqlalchemy import ColumnElement, exists, select, true
from sqlalchemy.orm import Session

from webapp.models import House, HouseCode
from webapp.validation import ALPHABET, HOUSE_BODY_LEN, HOUSE_CODE_LEN, is_temp_house_code, make_house_code

# Plates hang outdoors and get dirty or scratched: level Q restores up to 25 % of the symbol.
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_Q
# The quiet zone ISO/IEC 18004 asks for; phone cameras misread codes printed without it.
QUIET_ZONE = 4
_SALT = b"gridwalk-plate\x00"
_CHUNK = 500


def local_only(base_url: str) -> bool:
    """Whether the base URL names this machine only (loopback, or the any-address a server
    binds to): a phone's camera opening a plate's QR would find nothing there."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host in ("", "localhost") or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def plate_url(base_url: str, code: str) -> str:
    """What the QR on the plate says: a phone camera opens it, the field app reads the code."""
    return f"{base_url.rstrip('/')}/h/{code}"


def spaced(code: str) -> str:
    """Our codes in groups of five, as printed ("ABCDE FGHJK", "T ABCDE FGHJK"); parsers drop
    the spaces. Other systems' codes are shown as they are."""
    if is_temp_house_code(code):
        return f"{code[0]} {spaced(code[1:])}"
    if len(code) != HOUSE_CODE_LEN:
        return code
    return f"{code[:5]} {code[5:]}"


def _qr(url: str, **kwargs: Any) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=QUIET_ZONE, **kwargs)
    qr.add_data(url)
    qr.make(fit=True)
    return qr


def qr_matrix(url: str) -> list[list[bool]]:
    """The QR modules, quiet zone included (True = dark)."""
    return [list(row) for row in _qr(url).get_matrix()]


def qr_svg(url: str) -> bytes:
    """A standalone SVG: one <path> and a white background, colours as presentation attributes.

    No `style` attribute anywhere, so nothing for the CSP's style-src to refuse (it would
    not apply to an SVG served as an <img> anyway).
    """
    out = io.BytesIO()
    _qr(url, image_factory=SvgPathFillImage).make_image().save(out)
    return out.getvalue()


# --- codes ----------------------------------------------------------------------------


def candidate_code(house_id: uuid.UUID, attempt: int = 0) -> str:
    """The plate code for `house_id` at the given attempt (attempts > 0 only after a clash)."""
    digest = hashlib.sha256(_SALT + house_id.bytes + attempt.to_bytes(4, "big")).digest()
    n = int.from_bytes(digest[:8], "big") % len(ALPHABET) ** HOUSE_BODY_LEN
    body = []
    for _ in range(HOUSE_BODY_LEN):
        n, r = divmod(n, len(ALPHABET))
        body.append(ALPHABET[r])
    return make_house_code("".join(reversed(body)))


def current_plate(house: House) -> HouseCode | None:
    """The plate now on the door: a live plate code that has not been retired."""
    for code in house.codes:
        if code.kind == "plate" and code.deleted_at is None and code.retired_at is None:
            return code
    return None


def lacks_plate() -> ColumnElement[bool]:
    """Houses with no current plate (never plated, or their plate was retired)."""
    return ~exists(
        select(HouseCode.id).where(
            HouseCode.house_id == House.id, HouseCode.kind == "plate",
            HouseCode.deleted_at.is_(None), HouseCode.retired_at.is_(None),
        )
    )


@dataclass(frozen=True)
class Assigned:
    house_id: uuid.UUID
    code: str


def assign_plates(
    session: Session, where: ColumnElement[bool] | None = None, by_user_id: int | None = None,
    dry_run: bool = False,
) -> list[Assigned]:
    """Give a plate code to every live house matching `where` that has none; flush, no commit.

    Codes are unique across every code ever issued (retired and external ones included,
    since those still resolve). Houses are taken in id order so that two runs over the
    same data choose the same codes even when two candidates clash.
    """
    houses = session.scalars(
        select(House.id).where(House.deleted_at.is_(None), lacks_plate(), where if where is not None else true())
        .order_by(House.id)
    ).all()
    assigned: list[Assigned] = []
    taken: set[str] = set()
    for chunk in _chunks(houses, _CHUNK):
        attempts = {house_id: 0 for house_id in chunk}
        pending = list(chunk)
        while pending:
            wanted = {house_id: candidate_code(house_id, attempts[house_id]) for house_id in pending}
            taken |= set(session.scalars(select(HouseCode.code).where(HouseCode.code.in_(wanted.values()))))
            pending = []
            for house_id, code in wanted.items():
                if code in taken:
                    attempts[house_id] += 1
                    pending.append(house_id)
                else:
                    taken.add(code)
                    assigned.append(Assigned(house_id, code))
    if not dry_run:
        session.add_all(HouseCode(code=a.code, kind="plate", house_id=a.house_id, changed_by_id=by_user_id)
                        for a in assigned)
        session.flush()
    return assigned


def _chunks(items: Sequence[uuid.UUID], size: int) -> Iterable[Sequence[uuid.UUID]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]

"""Record ids: UUID version 7 (RFC 9562), the milliseconds since 1970 first, then 74 random bits.

Why not version 4: every table and most indexes are keyed by these ids, and a random key
puts each new row on a random page of each B-tree. A 2,500-mutation push then dirtied a page
per row and index entry, most of the push's SQLite time. Ids made in the same moment share
their first bytes and land on the same few pages at the end of each index: on SQLite such a
push takes about a quarter less time (bench/findings.md). PostgreSQL orders them the same way;
at the bench's scale its pages stayed in memory anyway and it gained nothing measurable.

The phone makes the same ids (static/pwa/ids.js); both are held to tests/vectors/ids.json.
Any UUID stays a valid id: old apps and other clients send version 4, and rows made before
this change keep theirs. Ids order by the millisecond only: nothing may rely on their order
within one, nor on a phone's clock being right.

An id now tells when its record was made. It is shown only where the record is (the public
plate page names a house by its plate code, never by id), to people who may see the record's
history, which says as much.
"""
from __future__ import annotations

import os
import time
import uuid

MAX_MS = (1 << 48) - 1


def uuid7(ms: int, random: bytes) -> uuid.UUID:
    """The id made at `ms` from 16 random bytes (their first six, and the version and variant
    bits, are overwritten)."""
    if not isinstance(ms, int) or isinstance(ms, bool) or not 0 <= ms <= MAX_MS:
        raise ValueError(f"milliseconds out of range for a UUID v7: {ms}")
    if len(random) != 16:
        raise ValueError("a UUID v7 takes 16 random bytes")
    b = bytearray(random)
    b[0:6] = ms.to_bytes(6, "big")
    b[6] = 0x70 | (b[6] & 0x0F)
    b[8] = 0x80 | (b[8] & 0x3F)
    return uuid.UUID(bytes=bytes(b))


def new_id() -> uuid.UUID:
    """A fresh record id, ordered by the moment it was made."""
    return uuid7(time.time_ns() // 1_000_000, os.urandom(16))

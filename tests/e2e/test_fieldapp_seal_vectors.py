"""The field app's sealing of the rescue file (static/pwa/seal.js) against the vectors the
server's is held to (tests/vectors/rescue_seal.json, sync/sealed.py): with the vector's fixed
ephemeral key and iv, exactly the vector's sealed document; with fresh ones, a document the
server's `open_sealed` opens back to the plain text, byte for byte (docs/sync.md §6.1)."""
from __future__ import annotations

import base64
import json
from pathlib import Path

from playwright.sync_api import Page

from sync.sealed import open_sealed, server_key
from tests.e2e import fieldapp as fa

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "rescue_seal.json").read_text(encoding="utf-8"))

CHECK = """async (v) => {
  const s = await import("/static/pwa/seal.js");
  const long = v.plain.replace("王小明", "王小明".repeat(20000));  // past one fromCharCode chunk
  return {
    fixed: await s.seal(v.plain, v.server, {ephemeral: v.ephemeral_jwk, iv: v.iv}),
    fresh: [await s.seal(v.plain, v.server), await s.seal(v.plain, v.server), await s.seal(long, v.server)],
    long,
    kid: await s.kidOf(v.server.jwk),
  };
}"""


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_the_phone_seals_by_the_shared_rule(page: Page) -> None:
    key = server_key(VECTORS["secret_key"])
    assert key.public() == VECTORS["server"]  # the vector's key is the one its secret gives
    page.goto("/app/")
    fa.wait_ready(page)
    got = page.evaluate(CHECK, VECTORS)
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")  # before the context closes
    assert got["fixed"] == VECTORS["sealed"]
    assert got["kid"] == VECTORS["server"]["kid"]
    for sealed, plain in zip(got["fresh"], [VECTORS["plain"]] * 2 + [got["long"]], strict=True):
        assert set(sealed) == {"format", "version", "kid", "epk", "iv", "ciphertext"}
        assert (sealed["format"], sealed["version"], sealed["kid"]) == ("gridwalk-rescue-sealed", 1, key.kid)
        assert set(sealed["epk"]) == {"kty", "crv", "x", "y"}  # the ephemeral key's public part only
        assert len(_unb64(sealed["iv"])) == 12 and "=" not in sealed["iv"] + sealed["ciphertext"]
        assert open_sealed(sealed, key) == plain.encode("utf-8")  # the very text sealed
    # Fresh each time: a reused ephemeral key or iv would not be sealing.
    assert len({s["epk"]["x"] for s in got["fresh"]}) == 3 and len({s["iv"] for s in got["fresh"]}) == 3
    assert got["fresh"][0]["epk"] != VECTORS["ephemeral_jwk"] and got["fresh"][0]["iv"] != VECTORS["iv"]

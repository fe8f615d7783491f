"""The field app's address rule (static/pwa/address.js) against the vectors the console's is
held to (tests/vectors/address.json, tests/test_address_vectors.py)."""
from __future__ import annotations

import json
import random
from pathlib import Path

from playwright.sync_api import Page

from tests.e2e import fieldapp as fa

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "address.json").read_text(encoding="utf-8"))

CHECK = """async (v) => {
  const a = await import("/static/pwa/address.js");
  return {
    format: v.format.map((c) => a.formatAddress(c.house)),
    tokens: v.tokens.map((c) => a.tokens(c.input)),
    match: v.match.map((c) => a.matches(a.tokens(c.query), a.tokens(c.address))),
    order: [...v.shuffled].sort(a.naturalCompare),
    keys: v.keys.map((c) => a.partKey(c.input, c.part)),
    hukou: v.hukou.map((c) => a.hukouPlace(c.hukou, c.house, {homeRegion: c.home_region, level: c.level})),
  };
}"""


def test_the_phone_reads_addresses_by_the_shared_rule(page: Page) -> None:
    shuffled = list(VECTORS["order"])
    random.Random(7).shuffle(shuffled)
    page.goto("/app/")
    fa.wait_ready(page)
    got = page.evaluate(CHECK, {**VECTORS, "shuffled": shuffled})
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")  # before the context closes
    for case, value in zip(VECTORS["format"], got["format"], strict=True):
        assert value == case["address"], case["id"]
    for case, value in zip(VECTORS["tokens"], got["tokens"], strict=True):
        assert value == case["tokens"], case["id"]
    for case, value in zip(VECTORS["match"], got["match"], strict=True):
        assert value is case["match"], case["id"]
    assert got["order"] == VECTORS["order"]
    assert got["keys"] == [c["key"] for c in VECTORS["keys"]]
    assert got["hukou"] == [c["place"] for c in VECTORS["hukou"]]

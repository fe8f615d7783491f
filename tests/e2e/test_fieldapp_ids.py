"""The field app's ids (static/pwa/ids.js) against the vectors the server's are held to
(tests/vectors/ids.json, tests/test_ids.py), and the ids its records and mutations get."""
from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Page

from tests.e2e import fieldapp as fa

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "ids.json").read_text(encoding="utf-8"))

CHECK = """async (v) => {
  const ids = await import("/static/pwa/ids.js");
  const {uuid} = await import("/static/pwa/ui.js");
  const bytes = (hex) => Uint8Array.from(hex.match(/../g).map((x) => parseInt(x, 16)));
  const refused = v.refused.map((c) => { try { ids.uuid7(c.ms, new Uint8Array(16)); return false; } catch (e) { return e instanceof RangeError; } });
  const before = Date.now();
  const fresh = [];
  for (let i = 0; i < 20; i++) {
    fresh.push(uuid());
    const t = Date.now(); while (Date.now() === t) {}  // the next millisecond
  }
  return {made: v.make.map((c) => ids.uuid7(c.ms, bytes(c.random))), refused, before, after: Date.now(), fresh};
}"""


def test_the_phone_makes_ids_by_the_shared_rule(page: Page) -> None:
    page.goto("/app/")
    fa.wait_ready(page)
    got = page.evaluate(CHECK, VECTORS)
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")  # before the context closes
    for case, value in zip(VECTORS["make"], got["made"], strict=True):
        assert value == case["uuid"], case["id"]
    assert got["refused"] == [True] * len(VECTORS["refused"])
    fresh = got["fresh"]
    assert len(set(fresh)) == len(fresh)
    assert all(f[14] == "7" and f[19] in "89ab" for f in fresh)
    stamps = [int(f.replace("-", "")[:12], 16) for f in fresh]
    assert got["before"] <= stamps[0] and stamps[-1] <= got["after"]
    assert sorted(fresh) == fresh  # a millisecond apart: in the order made

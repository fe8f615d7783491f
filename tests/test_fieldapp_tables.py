"""The phone's table lists (static/pwa/db.js) are the server's (sync/wire.py, sync/pull.py):
a store the phone lacks drops every row of that table at the first pull, silently, and a
house child the phone does not prune outlives its house."""
from __future__ import annotations

import json
import re
from pathlib import Path

from sync import pull
from sync.wire import PULLED_MODELS

DB_JS = Path(__file__).resolve().parent.parent / "static" / "pwa" / "db.js"


def _js_list(name: str) -> list[str]:
    found = re.search(rf"export const {name} = (\[[^\]]*\]);", DB_JS.read_text(encoding="utf-8"))
    assert found, f"{name} not found in db.js"
    return list(json.loads(found.group(1)))


def test_the_phone_keeps_a_store_for_every_pulled_table() -> None:
    server = [m.__table__.name for m in PULLED_MODELS]  # type: ignore[attr-defined]
    assert _js_list("TABLES") == server


def test_the_phone_and_the_server_agree_on_what_hangs_off_a_house() -> None:
    assert set(_js_list("HOUSE_CHILDREN")) == set(pull._HOUSE_CHILDREN)

"""The address rule (webapp/registry/address.py) against the vectors the field app is held to
too (tests/vectors/address.json; tests/e2e/test_fieldapp_address_vectors.py)."""
from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from webapp.registry.address import format_address, hukou_place, matches, natural_key, part_key, tokens

VECTORS: dict[str, Any] = json.loads((Path(__file__).parent / "vectors" / "address.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", VECTORS["format"], ids=[c["id"] for c in VECTORS["format"]])
def test_format(case: dict[str, Any]) -> None:
    assert format_address(case["house"]) == case["address"]


@pytest.mark.parametrize("case", VECTORS["tokens"], ids=[c["id"] for c in VECTORS["tokens"]])
def test_tokens(case: dict[str, Any]) -> None:
    assert [list(t) for t in tokens(case["input"])] == case["tokens"]


@pytest.mark.parametrize("case", VECTORS["match"], ids=[c["id"] for c in VECTORS["match"]])
def test_match(case: dict[str, Any]) -> None:
    assert matches(tokens(case["query"]), tokens(case["address"])) is case["match"]


def test_natural_order() -> None:
    shuffled = list(VECTORS["order"])
    random.Random(7).shuffle(shuffled)
    assert sorted(shuffled, key=natural_key) == VECTORS["order"]


@pytest.mark.parametrize("case", VECTORS["keys"], ids=[c["id"] for c in VECTORS["keys"]])
def test_part_keys(case: dict[str, Any]) -> None:
    assert part_key(case["input"], case["part"]) == case["key"]


@pytest.mark.parametrize("case", VECTORS["hukou"], ids=[c["id"] for c in VECTORS["hukou"]])
def test_hukou_place(case: dict[str, Any]) -> None:
    assert hukou_place(case["hukou"], case["house"], home_region=case["home_region"], level=case["level"]) == case["place"]

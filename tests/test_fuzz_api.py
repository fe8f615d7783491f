"""Schema-based fuzzing of the API from its own OpenAPI document (schemathesis).

The operations are read from the document, and every /api/ route of the app must be in the
document, so a new endpoint is fuzzed without anyone remembering to list it. The app runs
in-process (WSGI). Every generated request, valid or deliberately invalid, must answer
without a 5xx, and every 4xx must be problem+json with a `code`. `make test` runs about
FUZZ_CASES (200) cases in all with a fixed seed, so a failure reproduces; `make fuzz` runs
FUZZ_CASES=2400.
"""
from __future__ import annotations

import math
import os
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from webapp.api.openapi import document

pytestmark = pytest.mark.slow  # a fuzz campaign over the API: `make test`, not `make check`

schemathesis = pytest.importorskip("schemathesis")  # pinned in requirements-dev.txt
GenerationMode = schemathesis.GenerationMode

CASES = int(os.environ.get("FUZZ_CASES", "200"))
PATHS = document()["paths"]
OPERATIONS = sorted((path, method.upper()) for path, item in PATHS.items() for method in item)
# Negative cases break a parameter or the body: an operation with neither has none.
RUNS = [(path, method, mode) for path, method in OPERATIONS
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        if mode is GenerationMode.POSITIVE or {"parameters", "requestBody"} & PATHS[path][method.lower()].keys()]


def _check(response: Any, where: str) -> None:
    status = response.status_code
    assert status < 500, f"{where}: {status} {response.text[:300]}"
    if status >= 400:
        content_type = (response.headers.get("content-type") or [""])[0]  # schemathesis: lists, lower case
        assert content_type.startswith("application/problem+json"), f"{where}: {status} {content_type}"
        body = response.json()
        assert isinstance(body.get("code"), str) and body["code"], f"{where}: {body}"


@pytest.mark.parametrize("path,method,mode", RUNS, ids=[f"{m} {p}-{g.value}" for p, m, g in RUNS])
def test_fuzz_api(app, area, path: str, method: str, mode: GenerationMode) -> None:  # type: ignore[no-untyped-def]
    # Generated logins fail by the hundred from one address: the throttle would answer 429
    # to all of them and hide the code behind it. It has its own tests (test_security.py).
    app.config["LOGIN_FAILURES_PER_IP"] = 10**9
    client = app.test_client()
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    strategy = schema[path][method].as_strategy(generation_mode=mode)
    examples = max(10, math.ceil(CASES / len(RUNS)))

    @seed(20261126)
    @settings(max_examples=examples, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), print_blob=True)
    @given(case=strategy, with_token=st.booleans())
    def run(case: Any, with_token: bool) -> None:
        headers = {}
        if with_token:
            # A fresh phone per case, for the same reason: seq 1 of one case and of the next.
            fresh = client.post("/api/devices", json={"username": "coord", "password": "pw"}).get_json()["token"]
            headers = {"Authorization": f"Bearer {fresh}"}
        response = case.call(headers=headers)
        _check(response, f"{method} {path} {case.body!r:.300} {case.query!r:.100}")

    run()


def _openapi_path(rule: str) -> str:
    """/api/x/<uuid:id> (Flask) → /api/x/{id} (OpenAPI)."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_every_api_route_is_in_the_openapi_document(app) -> None:  # type: ignore[no-untyped-def]
    """A route under /api/ missing from the document would escape the fuzzer (and the phones'
    contract): every one must be described, method by method, and nothing described may be
    missing from the app."""
    routes = {(_openapi_path(rule.rule), method) for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/") for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == set(OPERATIONS)
    assert ("/api/walk", "GET") in routes

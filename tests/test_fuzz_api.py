"""Schema-based fuzzing of the sync API from its own OpenAPI document (schemathesis).

The app runs in-process (WSGI). Every generated request, valid or deliberately invalid,
must answer without a 5xx, and every 4xx must be problem+json with a `code`. `make test`
runs about FUZZ_CASES (200) cases with a fixed seed, so a failure reproduces; `make fuzz`
runs FUZZ_CASES=2000 or more.
"""
from __future__ import annotations

import math
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

schemathesis = pytest.importorskip("schemathesis")  # pinned in requirements-dev.txt
GenerationMode = schemathesis.GenerationMode

CASES = int(os.environ.get("FUZZ_CASES", "200"))
OPERATIONS = [("/api/devices", "POST"), ("/api/sync/push", "POST"), ("/api/sync/pull", "GET")]
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


def _check(response: Any, where: str) -> None:
    status = response.status_code
    assert status < 500, f"{where}: {status} {response.text[:300]}"
    if status >= 400:
        content_type = (response.headers.get("content-type") or [""])[0]  # schemathesis: lists, lower case
        assert content_type.startswith("application/problem+json"), f"{where}: {status} {content_type}"
        body = response.json()
        assert isinstance(body.get("code"), str) and body["code"], f"{where}: {body}"


@pytest.mark.parametrize("mode", MODES, ids=[m.value for m in MODES])
@pytest.mark.parametrize("operation", OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_fuzz_api(app, area, operation: tuple[str, str], mode: GenerationMode) -> None:  # type: ignore[no-untyped-def]
    path, method = operation
    # Generated logins fail by the hundred from one address: the throttle would answer 429
    # to all of them and hide the code behind it. It has its own tests (test_security.py).
    app.config["LOGIN_FAILURES_PER_IP"] = 10**9
    client = app.test_client()
    token = client.post("/api/devices", json={"username": "coord", "password": "pw"}).get_json()["token"]
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    strategy = schema[path][method].as_strategy(generation_mode=mode)
    authorised = {"Authorization": f"Bearer {token}"}
    examples = max(10, math.ceil(CASES / (len(OPERATIONS) * len(MODES))))

    @seed(20261126)
    @settings(max_examples=examples, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), print_blob=True)
    @given(case=strategy, with_token=st.booleans())
    def run(case: Any, with_token: bool) -> None:
        headers = dict(authorised) if with_token else {}
        response = case.call(headers=headers)
        _check(response, f"{method} {path} {case.body!r:.300} {case.query!r:.100}")

    run()

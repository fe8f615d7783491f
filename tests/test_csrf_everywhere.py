"""CSRF on every state-changing form: every route that accepts POST, PUT, PATCH or DELETE,
found from the app's URL map rather than listed by hand, refuses a logged-in user's request
without the form's token. Only the bearer-token API (no cookies) is exempt."""
from __future__ import annotations

import uuid
from typing import Any

from werkzeug.routing import IntegerConverter, UUIDConverter

from tests.conftest import login

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Cookies do not authenticate these: a phone sends a bearer token, which a cross-site form
# cannot; registering a device checks a password itself.
EXEMPT_PREFIXES = ("/api/",)


def _sample(rule: Any) -> str:
    """A URL for the rule with plausible values in its variables (CSRF is checked first)."""
    values: dict[str, Any] = {}
    for name, converter in rule._converters.items():
        values[name] = uuid.uuid4() if isinstance(converter, UUIDConverter) else 1 \
            if isinstance(converter, IntegerConverter) else "x"  # the app's <rowid:> is one too
    return rule.build(values, append_unknown=False)[1]  # type: ignore[no-any-return]


def test_every_form_route_refuses_a_post_without_its_token(app, client, area) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    routes = [(rule, method) for rule in app.url_map.iter_rules() for method in sorted(rule.methods & WRITES)
              if not rule.rule.startswith(EXEMPT_PREFIXES)]
    assert len(routes) > 20  # the console, the public task form, the community pages, …
    accepted = []
    for rule, method in routes:
        url = _sample(rule)
        response = client.open(url, method=method, data={"anything": "1"}, headers={"Accept": "application/json"})
        body = response.get_data(as_text=True)
        # Refused for the token, not for some other reason (the public page words it for residents).
        if response.status_code != 400 or ("CSRF" not in body and "This page has expired" not in body):
            accepted.append(f"{method} {rule.rule} → {response.status_code} {body[:80]}")
    assert accepted == []

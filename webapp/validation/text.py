"""Text no database can keep: NUL and lone surrogates.

PostgreSQL refuses NUL in any text, and a lone surrogate (JSON's "\\ud800" can carry one)
cannot be encoded at all: either fails deep in a query (a 500, or a whole import undone)
instead of being refused where it came in. No one types them; every door that takes text
from a file or a JSON body asks here: a push's fields and envelope (sync/), a unit's
contacts, a cell file's properties (geo/parse.py).
"""
from __future__ import annotations

import re
from typing import Any

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: Any) -> bool:
    """True for text a database keeps as it is (any other value is not this check's to judge)."""
    return not (isinstance(value, str) and UNSTORABLE.search(value))

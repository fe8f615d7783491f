"""The queue's addresses from before the rename of tip to task (issue 20): `/tips...` answers
a permanent redirect to the same path under `/tasks`, its query string kept. Bookmarks, links
in old e-mails and a console page left open across the update keep working; a form posted
from such a page gets 308, which makes the browser post the same body again to the new
address (301 would turn it into a GET and lose it)."""
from __future__ import annotations

from typing import Any

from flask import redirect, request

from webapp.tasks import bp

OLD_PREFIX, NEW_PREFIX = "/tips", "/tasks"
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


@bp.route(OLD_PREFIX, methods=_METHODS, strict_slashes=False)
@bp.route(f"{OLD_PREFIX}/<path:rest>", methods=_METHODS)
def old_address(rest: str = "") -> Any:
    target = NEW_PREFIX + (f"/{rest}" if rest else "")
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return redirect(target, 301 if request.method in ("GET", "HEAD") else 308)

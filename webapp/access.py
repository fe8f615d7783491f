"""Authorisation for views: the current user's scope, and a decorator for actions."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g
from flask_login import current_user, login_required

from webapp.extensions import db
from webapp.registry.scope import Scope, scope_for

F = TypeVar("F", bound=Callable[..., Any])


def current_scope() -> Scope:
    if "scope" not in g:
        g.scope = scope_for(db.session, current_user._get_current_object())
    return g.scope


def requires(action: str) -> Callable[[F], F]:
    """Log in first, then refuse (403) a role that may not do `action` at all."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_scope().may(action):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def require_cell(cell_id: Any) -> None:
    """404, not 403, for records outside the scope: do not confirm that they exist."""
    if not current_scope().covers_cell(cell_id):
        abort(404)

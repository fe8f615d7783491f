"""GET /api/walk: the walking order of every house in the caller's cells, cell by cell.

The field app fetches it after a sync and keeps it on the phone, so "按路线" works offline: it
lists a cell's houses not yet visited in this order (visits recorded offline are known only on
the phone, so the full order travels and the phone leaves out what it has visited). A phone
authenticates with its device token; a person logged in to the console with their session.
Either way the cells are those of `webapp.registry.scope`; `?cell=` narrows to one (404 outside).
"""
from __future__ import annotations

import uuid
from typing import Any

from flask import jsonify, request
from flask_login import current_user
from sqlalchemy import select

from geo.route import walking_order
from webapp.access import current_scope
from webapp.api import bp
from webapp.api.views import Refused, _device
from webapp.errors import problem
from webapp.extensions import db
from webapp.models import Cell, House
from webapp.registry.scope import Scope, scope_for


def _scope() -> Scope:
    if request.headers.get("Authorization") or not current_user.is_authenticated:
        return scope_for(db.session, _device().user)  # refuses a missing or bad token (401/403)
    return current_scope()


def _cells(scope: Scope) -> list[uuid.UUID]:
    wanted = request.args.get("cell")
    if wanted is not None:
        try:
            cell_id = uuid.UUID(wanted)
        except ValueError:
            raise Refused(problem(404, "no such cell / 无此网格", "not_found")) from None
        if not scope.covers_cell(cell_id) or db.session.get(Cell, cell_id) is None:
            raise Refused(problem(404, "no such cell / 无此网格", "not_found"))
        return [cell_id]
    query = select(Cell.id).where(Cell.deleted_at.is_(None)).order_by(Cell.code)
    if scope.cell_ids is not None:
        query = query.where(Cell.id.in_(scope.cell_ids))
    return list(db.session.scalars(query))


@bp.route("/walk")
def walk() -> Any:
    cells = _cells(_scope())
    by_cell: dict[uuid.UUID, list[House]] = {c: [] for c in cells}
    if cells:
        # One query for all of them (a centre phone carries every cell).
        for house in db.session.scalars(select(House).where(House.cell_id.in_(cells), House.deleted_at.is_(None))):
            by_cell[house.cell_id].append(house)  # type: ignore[index]
    out = []
    for cell_id, houses in by_cell.items():
        route = walking_order(houses)
        out.append({"cell_id": str(cell_id), "total_m": round(route.total_m, 1),
                    "houses": [str(s.house_id) for s in route.stops]})
    return jsonify({"cells": out})

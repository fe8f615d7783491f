"""/units: the units of one's cells, searched by name, credit code or address. Thin: parse,
scope, ask webapp.registry.units, render."""
from __future__ import annotations

import uuid
from typing import Any

from flask import abort, current_app, render_template, request
from flask_login import login_required
from sqlalchemy import select

from webapp.access import current_scope, requires
from webapp.extensions import db
from webapp.models import Cell
from webapp.models.enums import UnitKind
from webapp.registry import units
from webapp.units import bp
from webapp.query_args import page_number


@bp.route("/units")
@login_required
@requires("view")
def index() -> Any:
    scope = current_scope()
    q = request.args.get("q", "")[:100]
    kind = request.args.get("kind") or None
    if kind is not None and kind not in {k.value for k in UnitKind}:
        abort(404)
    cell_id = None
    if request.args.get("cell"):
        try:
            cell_id = uuid.UUID(request.args["cell"])
        except ValueError:
            abort(404)
        if not scope.covers_cell(cell_id):
            abort(404)
    rows = units.search(db.session, scope, q, kind=kind, cell_id=cell_id)
    size = current_app.config["SEARCH_PAGE_SIZE"]
    page = page_number()
    pages = max(1, -(-len(rows) // size))
    cells = db.session.scalars(select(Cell).where(scope.cell_clause(), Cell.deleted_at.is_(None))
                               .order_by(Cell.code)).all()
    return render_template("units/index.html", rows=rows[(page - 1) * size:page * size], total=len(rows),
                           page=page, pages=pages, q=q, kind=kind, cell_id=cell_id, cells=cells,
                           duplicates=sum(r.duplicate for r in rows))

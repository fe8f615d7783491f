"""The police registry's monthly extract: upload and import (centre), export (scoped)."""
from __future__ import annotations

import io
from typing import Any

from flask import abort, current_app, render_template, send_file
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from webapp import audit
from webapp.registry import privacy
from webapp.access import current_scope, requires
from webapp.base.dbsetup import refresh_statistics
from webapp.extensions import db
from webapp.extract import bp
from webapp.extract.forms import ImportForm
from webapp.models import House
from webapp.registry.extract import SHAPES, export_extract, import_extract
from webapp.registry.extract.limits import Capped, ExtractLimits, too_large
from webapp.templating import lang
from webapp.base.timeutil import to_local, utcnow

MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@bp.route("/", methods=["GET"])
@requires("export")
def index() -> Any:
    return render_template("extract/index.html", form=ImportForm(), report=None, shapes=SHAPES)


@bp.route("/import", methods=["POST"])
@requires("import")
def upload() -> Any:
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template("extract/index.html", form=form, report=None, shapes=SHAPES), 422
    files = {key: getattr(form, key).data for key in SHAPES if getattr(form, key).data}
    if not files:
        form.houses.errors = [_("Choose at least one file.")]
        return render_template("extract/index.html", form=form, report=None, shapes=SHAPES), 422
    limits = ExtractLimits.from_config(current_app.config)
    report = import_extract(db.session, {k: Capped(f, limits) for k, f in files.items()},
                            by_user_id=current_user.id, dry_run=form.dry_run.data)
    audit.record("import_extract", "extract", None, dry_run=form.dry_run.data, ok=report.ok,
                 files={k: f.filename for k, f in files.items()}, counts=report.counts())
    if report.written:
        refresh_statistics(db.session)
    db.session.commit()
    # A file over a size cap is 413 (split it, or CSV), one with bad content 422 (fix it).
    status = 200 if report.ok else 413 if too_large(report) else 422
    return render_template("extract/index.html", form=form, report=report, shapes=SHAPES,
                           lines=report.summary_lines(lang()), field_name=_field_name), status


def _field_name(shape: str, key: str) -> str:
    """A changed field as the user reads it: the column's header, else the field's name."""
    from webapp.conflicts.display import field_label

    column = next((c for c in SHAPES[shape].columns if c.key == key), None)
    return column.zh if column is not None and lang() == "zh" else field_label(key)


@bp.route("/export/<shape>.<fmt>")
@requires("export")
def download(shape: str, fmt: str) -> Any:
    if shape not in SHAPES or fmt not in MIMETYPES:
        abort(404)
    scope = current_scope()
    full_ids = privacy.clear(scope.role, "person", "id_number")
    now = to_local(utcnow())
    note = (f"Gridwalk 导出 export · {current_user.username} ({current_user.role}) · "
            f"{now:%Y-%m-%d %H:%M} Asia/Shanghai · {SHAPES[shape].zh} {shape} · "
            f"{'身份证号完整 full ID numbers' if full_ids else '身份证号已脱敏 ID numbers masked'}")
    visible = None if scope.cell_ids is None else select(House.id).where(scope.house_clause())
    out = io.BytesIO()
    rows = export_extract(db.session, shape, fmt, out, header_note=note, house_ids=visible,  # type: ignore[arg-type]
                          role=scope.role)
    # Every export is audited: who, what, when, from where, and how many rows (PIPL art. 56).
    audit.record("export_extract", "extract", None, shape=shape, fmt=fmt, rows=rows, full_ids=full_ids)
    db.session.commit()
    out.seek(0)
    name = f"gridwalk-{shape}-{now:%Y%m%d-%H%M}.{fmt}"
    return send_file(out, mimetype=MIMETYPES[fmt], as_attachment=True, download_name=name,
                     max_age=0)

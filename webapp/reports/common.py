"""What the reports views share: settings, the committee/cell filter within the user's
scope, finding rows as shown and exported (ID numbers masked unless the centre), exports."""
from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, g, request, send_file
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from geo.settings import GeoSettings
from webapp import audit
from webapp.access import current_scope
from webapp.extensions import db
from webapp.models import Cell, Committee
from webapp.models.enums import PersonCategory, Relation
from webapp.registry import privacy
from webapp.registry.reports import describe
from webapp.registry.rules import RULES, Flag, RuleSettings
from webapp.registry.scope import Scope
from webapp.reports.export import MIMETYPES, Table, render
from webapp.templating import lang
from webapp.base.timeutil import to_local, utcnow
from webapp.query_args import page_number

PAGE_SIZE = 100


def rule_settings() -> RuleSettings:
    return RuleSettings.from_config(current_app.config)


def geo_settings() -> GeoSettings:
    return GeoSettings.from_config(current_app.config)


def parse_uuid(raw: str | None) -> uuid.UUID | None:
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        abort(404)


@dataclass
class Filters:
    committee_id: uuid.UUID | None
    cell_id: uuid.UUID | None
    cell_ids: frozenset[uuid.UUID] | None  # what the lists are asked for; None: everything
    committees: list[Committee]
    cells: list[Cell]

    def args(self) -> dict[str, str]:
        out = {}
        if self.committee_id:
            out["committee"] = str(self.committee_id)
        if self.cell_id:
            out["cell"] = str(self.cell_id)
        return out

    def describe(self) -> str:
        """For the export note and the audit log."""
        parts = []
        if self.committee_id:
            parts.append(next((c.name for c in self.committees if c.id == self.committee_id), ""))
        if self.cell_id:
            parts.append(next((f"{c.code} {c.name}" for c in self.cells if c.id == self.cell_id), ""))
        return " / ".join(p for p in parts if p) or _("all in scope")


def filters(scope: Scope | None = None) -> Filters:
    """The committee and cell asked for, within the user's cells (404 outside them)."""
    scope = scope or current_scope()
    visible = select(Cell).where(Cell.deleted_at.is_(None), scope.cell_clause()).order_by(Cell.code)
    cells = list(db.session.scalars(visible))
    committee_ids = {c.committee_id for c in cells}
    committees = list(db.session.scalars(select(Committee).where(Committee.id.in_(committee_ids))
                                         .order_by(Committee.code))) if committee_ids else []
    committee_id = parse_uuid(request.args.get("committee"))
    cell_id = parse_uuid(request.args.get("cell"))
    if committee_id and committee_id not in committee_ids:
        abort(404)
    if cell_id and not any(c.id == cell_id for c in cells):
        abort(404)
    chosen: frozenset[uuid.UUID] | None = scope.cell_ids
    if committee_id:
        chosen = frozenset(c.id for c in cells if c.committee_id == committee_id)
    if cell_id:
        chosen = frozenset({cell_id}) if chosen is None or cell_id in chosen else frozenset()
    shown = [c for c in cells if committee_id is None or c.committee_id == committee_id]
    return Filters(committee_id, cell_id, chosen, committees, shown)


def page_of(items: list[Any]) -> tuple[list[Any], int, int]:
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = min(pages, page_number())
    return items[(page - 1) * PAGE_SIZE: page * PAGE_SIZE], page, pages


@dataclass
class Row:
    flag: Flag
    rule: str
    finding: str
    text: str
    name: str
    id_number: str
    category: str
    address: str
    cell: str
    committee: str
    opens: bool  # the record is the viewer's to open (a person living in their cells)


def rows(flags: list[Flag]) -> list[Row]:
    """Findings with the names and addresses to show: ID numbers as the role sees them
    (webapp/registry/privacy.py), and only of persons in the viewer's scope (describe)."""
    scope = current_scope()
    info = describe(db.session, flags, scope)
    role = scope.role
    language = lang()
    out = []
    for f in flags:
        d = info[(f.record_type, f.record_id)]
        number = d.id_number or ""
        category = PersonCategory(d.category).label(language) if d.category in PersonCategory._value2member_map_ else ""
        title, finding = _words(f, language)
        out.append(Row(f, title, finding,
                       f.text(language), d.name, privacy.seen(role, "person", "id_number", number) or "", category,
                       d.address, d.cell, d.committee, d.opens))
    return out


def audit_shown(action: str, items: list[Row], **detail: Any) -> None:
    """A page of findings lists persons with their numbers: a look at each of them (PIPL
    art. 56), recorded with whom it showed and what the role saw in clear, as an export is."""
    persons = [str(r.flag.record_id) for r in items if r.flag.record_type == "person"]
    role = current_scope().role
    audit.record(action, "report", None, persons=persons, rows=len(items),
                 clear=["id_number"] if privacy.clear(role, "person", "id_number") else [], **detail)
    db.session.commit()
    g.no_store = True


def _words(f: Flag, language: str) -> tuple[str, str]:
    """A finding's rule and kind in words: a rule's own, or a list's (arrivals and departures
    are findings of a list, their kind the relation to the house), never the codes."""
    rule = RULES.get(f.rule)
    if rule is not None:
        return rule.title(language), rule.kind_label(f.kind, language)
    from webapp.registry.reports import LISTS

    zh, en, _lister = LISTS.get(f.rule, (f.rule, f.rule, None))
    kind = Relation(f.kind).label(language) if f.kind in Relation._value2member_map_ else f.kind
    return (zh if language == "zh" else en), kind


def row_table(items: list[Row]) -> Table:
    head = [_("Committee"), _("Cell"), _("Address"), _("Record"), _("ID number"), _("Category"), _("Rule"),
            _("Finding"), _("Details")]
    return head, [[r.committee, r.cell, r.address, r.name, r.id_number, r.category, r.rule, r.finding, r.text]
                  for r in items]


def send_export(fmt: str, what: str, filename: str, sheets: list[tuple[str, Table]], *,
                action: str = "export_report", **detail: Any) -> Any:
    """Audit the export in its transaction (as `action`), note who/when/what in the file, send it."""
    if fmt not in MIMETYPES:
        abort(404)
    now = to_local(utcnow())
    full = privacy.clear(current_scope().role, "person", "id_number")
    ids = _("ID numbers in full") if full else _("ID numbers masked")
    count = sum(len(table[1]) for _t, table in sheets)
    note = _("Gridwalk · %(what)s · exported by %(user)s (%(role)s) · %(when)s Asia/Shanghai · %(rows)d rows · %(ids)s",
             what=what, user=current_user.username, role=current_user.role, when=f"{now:%Y-%m-%d %H:%M}",
             rows=count, ids=ids)
    if detail.get("filters"):
        note += " · " + _("filters: %(filters)s", filters=detail["filters"])
    body = render(fmt, note, sheets)
    audit.record(action, "report", filename, fmt=fmt, rows=count, full_ids=full, note=note, **detail)
    db.session.commit()
    g.no_store = True
    return send_file(io.BytesIO(body), mimetype=MIMETYPES[fmt], as_attachment=True,
                     download_name=f"gridwalk-{filename}-{now:%Y%m%d-%H%M}.{fmt}", max_age=0)

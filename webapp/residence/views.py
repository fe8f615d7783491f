"""Recording a 合法稳定住所 decision and printing its certificate. Thin: parse, authorise, call
webapp.registry.residence_decisions, render."""
from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp import audit
from webapp.access import require_cell, requires
from webapp.base.dbsetup import writes_on_get
from webapp.extensions import db
from webapp.models import House, Person, ResidenceCheck
from webapp.registry import residence_decisions
from webapp.reports.common import rule_settings
from webapp.residence import bp
from webapp.residence.forms import DecisionForm
from webapp.templating import lang
from webapp.base.timeutil import local_today


def applicant_choices(house: House) -> list[tuple[str, str]]:
    return [(str(p.id), p.name or "?") for p in residence_decisions.applicants(db.session, house.id)]


@bp.route("/houses/<uuid:house_id>/residence-decision", methods=["POST"])
@requires("residence_decision")
def decide(house_id: uuid.UUID) -> Any:
    """The committee's decision for one applicant at this house: certificate or refusal."""
    house = db.get_or_404(House, house_id)
    require_cell(house.cell_id)
    form = DecisionForm(applicants=applicant_choices(house))
    back = redirect(url_for("console.house", house_id=house_id, _anchor="residence"))
    if not form.validate_on_submit():
        flash(_("Choose the applicant and the decision."), "error")
        return back
    person = db.get_or_404(Person, uuid.UUID(form.person.data))
    try:
        check = residence_decisions.decide(db.session, house, person, result=form.result.data,
                                           basis=form.basis.data or None, note=form.note.data,
                                           by_user_id=current_user.id, today=local_today(), settings=rule_settings())
    except residence_decisions.DecisionError as error:
        db.session.rollback()
        flash(error.zh if lang() == "zh" else error.en, "error")
        return back
    audit.record("residence_decision", "person", person.id, house=str(house.id), result=check.result,
                 basis=check.basis, certificate=check.certificate_no)
    db.session.commit()
    if check.certificate_no:
        flash(_("Certificate %(number)s issued.", number=check.certificate_no), "ok")
        return redirect(url_for("residence.certificate", check_id=check.id))
    flash(_("Refusal recorded."), "ok")
    return back


@bp.route("/residence-certificates/<uuid:check_id>")
@login_required
@writes_on_get
def certificate(check_id: uuid.UUID) -> Any:
    """The printable certificate (证明): the applicant as the role may see them, its number and
    check code, and how to verify it at the house's plate."""
    check = db.get_or_404(ResidenceCheck, check_id)
    if check.certificate_no is None or check.person_id is None:
        abort(404)
    house = db.get_or_404(House, check.house_id)
    require_cell(house.cell_id)
    person = db.get_or_404(Person, check.person_id)
    audit.record("view_certificate", "person", person.id, certificate=check.certificate_no)
    db.session.commit()
    g.no_store = True
    return render_template("residence/certificate.html", check=check, house=house, person=person,
                           committee=house.cell.committee.name if house.cell else None,
                           plate=house.plate_code)

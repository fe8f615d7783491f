"""A house's history page: every version (webapp/console/versions.py), what happened to it,
and the actions that change its life (re-plate, split, demolish) for those who may."""
from __future__ import annotations

import uuid
from typing import Any, cast

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import String
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from webapp import audit
from webapp.access import requires
from webapp.console import bp
from webapp.console.versions import history_context
from webapp.console.views import _visible_house
from webapp.base.dbsetup import writes_on_get
from webapp.base.timeutil import local_today
from webapp.extensions import db
from webapp.form_days import plausible_day
from webapp.models import House
from webapp.registry.house_history import HistoryError, SplitPart, demolish, replate, split
from webapp.templating import lang
from webapp.validation import ranges


class ReplateForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=100)])


class DemolishForm(FlaskForm):
    on = DateField(_l("Demolished on"), validators=[DataRequired(), plausible_day])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=100)])

    def validate_on(self, field: DateField) -> None:
        # The registry refuses it too (house_history.demolish); here it is said beside the field.
        if field.data and field.data > local_today():
            raise ValidationError(_("A demolition cannot be dated after today."))


# A new room's name is stored in House.room: longer than its column, PostgreSQL refuses the
# insert (a 500) and SQLite keeps it whole. Read from the column so the limit lives in one place.
ROOM_MAX = cast(String, House.__table__.c.room.type).length or 16


class SplitForm(FlaskForm):
    rooms = TextAreaField(_l("New rooms, one per line: room name and living area in m², e.g. “301A 12”"),
                          validators=[DataRequired(), Length(max=2000)])

    def parts(self) -> list[SplitPart]:
        """Each line a room and its area, checked like the house form checks them (the same
        ranges.AREA_M2: -10 or 1e300 m² is a typo); an error names the line to correct."""
        out = []
        for line in (self.rooms.data or "").splitlines():
            words = line.split()
            if not words:
                continue
            if len(words[0]) > ROOM_MAX:
                raise ValidationError(_("“%(line)s”: the room name may have at most %(max)s characters.",
                                        line=line.strip(), max=ROOM_MAX))
            try:
                area = float(words[1]) if len(words) > 1 else None
            except ValueError:
                raise ValidationError(_("“%(line)s”: the living area must be a number.", line=line)) from None
            low, high = ranges.AREA_M2
            if area is not None and not low <= area <= high:  # written so that NaN fails too
                raise ValidationError(_("“%(line)s”: the living area must be from %(low)s to %(high)s m².",
                                        line=line.strip(), low=f"{low:g}", high=f"{high:g}"))
            out.append(SplitPart(words[0], area))
        return out


def _page(house_id: uuid.UUID, status: int = 200, **forms: Any) -> Any:
    if status != 200:
        db.session.rollback()  # a refused action writes nothing; the page's audit row commits alone
    house = _visible_house(house_id)
    forms = {"replate_form": ReplateForm(prefix="r"), "demolish_form": DemolishForm(prefix="d"),
             "split_form": SplitForm(prefix="s"), **forms}
    context = history_context("house", house.id)
    audit.record("view_house_history", "house", house.id, versions=len(context["history"]))
    db.session.commit()
    g.no_store = True
    return render_template("console/house_history.html", house=house, **forms, **context), status


@bp.route("/houses/<uuid:house_id>/history")
@login_required
@writes_on_get
def house_history(house_id: uuid.UUID) -> Any:
    """Every version of the house for whoever sees it; the actions for committees and the centre."""
    return _page(house_id)


def _refused(house_id: uuid.UUID, error: HistoryError, **forms: Any) -> Any:
    flash(error.zh if lang() == "zh" else error.en, "error")
    return _page(house_id, 409, **forms)


@bp.route("/houses/<uuid:house_id>/replate", methods=["POST"])
@requires("house_history")
def replate_house(house_id: uuid.UUID) -> Any:
    house = _visible_house(house_id)
    form = ReplateForm(prefix="r")
    if not form.validate_on_submit():
        return _page(house_id, 422, replate_form=form)
    try:
        plate = replate(db.session, house, current_user.id, form.reason.data or "")
    except HistoryError as error:  # a removed house gets no new plate
        return _refused(house_id, error, replate_form=form)
    audit.record("replate_house", "house", house.id, code=plate.code)
    db.session.commit()
    flash(_("New plate code: %(code)s. Print the plate from the plates page.", code=plate.code), "ok")
    return redirect(url_for("console.house", house_id=house.id))


@bp.route("/houses/<uuid:house_id>/demolish", methods=["POST"])
@requires("house_history")
def demolish_house(house_id: uuid.UUID) -> Any:
    house = _visible_house(house_id)
    form = DemolishForm(prefix="d")
    if not form.validate_on_submit():
        return _page(house_id, 422, demolish_form=form)
    try:
        ended = demolish(db.session, house, current_user.id, form.on.data, form.reason.data or "", local_today())
    except HistoryError as error:
        return _refused(house_id, error, demolish_form=form)
    audit.record("demolish_house", "house", house.id, residencies_ended=ended)
    db.session.commit()
    flash(_("The house is removed; %(n)s residencies ended.", n=ended), "ok")
    return redirect(url_for("console.house", house_id=house.id))


@bp.route("/houses/<uuid:house_id>/split", methods=["POST"])
@requires("house_history")
def split_house(house_id: uuid.UUID) -> Any:
    house = _visible_house(house_id)
    form = SplitForm(prefix="s")
    if not form.validate_on_submit():
        return _page(house_id, 422, split_form=form)
    try:
        parts = split(db.session, house, form.parts(), current_user.id)
    except ValidationError as error:
        form.rooms.errors = [str(error)]
        return _page(house_id, 422, split_form=form)
    except HistoryError as error:
        return _refused(house_id, error, split_form=form)
    audit.record("split_house", "house", house.id, into=[str(p.id) for p in parts])
    db.session.commit()
    flash(_("Split into %(n)s houses.", n=len(parts)), "ok")
    return redirect(url_for("console.house", house_id=parts[0].id))

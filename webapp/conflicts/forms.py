"""Deciding a conflict field by field, and merging two records. Values typed here are
checked by the sync rules (`sync.validate`), in the service, not by the form."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, HiddenField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from sync.resolve import DELETE_FIELD, FieldRow


class ResolveForm(FlaskForm):
    # The record's version when the page was shown: another on save means someone else won.
    version = HiddenField()
    restore = BooleanField(_l("Restore the deleted record"))

    def choice(self, name: str) -> Field:
        return self[f"choice__{name}"]

    def value(self, name: str) -> Field | None:
        return self._fields.get(f"value__{name}")


def resolve_form(rows: list[FieldRow], creating: bool, **kwargs: Any) -> ResolveForm:
    """A form with a keep/take/edit choice (and a value to type) per field in dispute."""

    class _Form(ResolveForm):
        pass

    for row in rows:
        if row.name == DELETE_FIELD:
            choices = [SelectChoice("keep", _l("Keep the record")),
                       SelectChoice("take", _l("Delete it, as the device asked"))]
        else:
            keep = _l("Leave out") if creating else _l("Keep registry value")
            choices = [SelectChoice("keep", keep), SelectChoice("take", _l("Take device value")),
                       SelectChoice("edit", _l("Type a value"))]
            setattr(_Form, f"value__{row.name}", StringField(_l("Value"), validators=[Length(max=500)]))
        setattr(_Form, f"choice__{row.name}", RadioField(choices=choices, default="keep"))
    return _Form(**kwargs)


class CombineForm(FlaskForm):
    record_type = SelectField(_l("Records"), choices=[SelectChoice("person", _l("Persons")),
                                                         SelectChoice("house", _l("Houses"))])
    survivor = StringField(_l("Keep this record"), validators=[DataRequired(), Length(max=64)],
                           description=_l("Record id, ID number (persons) or house code (houses)"))
    loser = StringField(_l("Merge this record into it"), validators=[DataRequired(), Length(max=64)],
                        description=_l("It becomes a deleted alias of the record kept"))
    conflict_id = HiddenField()

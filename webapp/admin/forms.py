"""Forms of the logins' administration. Usernames and roles are checked by
webapp.oversight.staff; phones by webapp.validation."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from webapp import validation
from webapp.templating import bilingual


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[Optional(), Length(max=64)],
                           render_kw={"autocomplete": "off", "spellcheck": "false"})
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64)])
    role = SelectField(_l("Role"), validate_choice=True)
    committee = SelectField(_l("Committee"), validate_choice=True)
    phone = StringField(_l("Mobile phone"), validators=[Optional(), Length(max=20)])

    parsed_phone: str | None = None

    def __init__(self, *args: Any, roles: list[tuple[str, str]], committees: list[tuple[str, str]],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = roles
        self.committee.choices = [("", "—"), *committees]

    def validate_phone(self, field: StringField) -> None:
        if field.data:
            try:
                self.parsed_phone = validation.parse_mobile(field.data, field="phone")
            except validation.ValidationError as error:
                raise ValidationError(bilingual(error.errors[0])) from None


class CellsForm(FlaskForm):
    """Many cells at once: ticked in the list, or clicked on the map (static/js/cell-pick.js)."""

    cells = SelectMultipleField(_l("Cells"), validate_choice=True,
                                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cells.choices = choices


class CellPeopleForm(FlaskForm):
    """One cell's grid lead and coordinators."""

    lead = SelectField(_l("Grid lead"), validate_choice=True)
    coordinators = SelectMultipleField(_l("Coordinators"), validate_choice=True,
                                       widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())

    def __init__(self, *args: Any, leads: list[tuple[str, str]], coordinators: list[tuple[str, str]],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lead.choices = [("", "—"), *leads]
        self.coordinators.choices = coordinators

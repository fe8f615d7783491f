"""Opening a campaign: name, dates, and its area (cells, or a polygon drawn or pasted)."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectMultipleField, TextAreaField
from wtforms import StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from webapp.form_days import plausible_day
from webapp.models.campaign import CAMPAIGN_NAME_MAX, CAMPAIGN_NOTE_MAX

# A polygon of a few hundred vertices is a few kB; more is a mistake or an attack.
BOUNDARY_MAX = 100_000


class CampaignForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=CAMPAIGN_NAME_MAX)],
                       render_kw={"maxlength": CAMPAIGN_NAME_MAX})
    note = TextAreaField(_l("What to check"), validators=[Optional(), Length(max=CAMPAIGN_NOTE_MAX)],
                         render_kw={"maxlength": CAMPAIGN_NOTE_MAX, "rows": 2})
    starts_on = DateField(_l("Starts on"), validators=[InputRequired(), plausible_day])
    due_on = DateField(_l("Target date"), validators=[InputRequired(), plausible_day])
    area_kind = RadioField(_l("Area"), default="cells", validators=[InputRequired()])
    cells = SelectMultipleField(_l("Cells"), validate_choice=True,
                                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    boundary = TextAreaField(_l("Area as GeoJSON (WGS-84)"), validators=[Optional(), Length(max=BOUNDARY_MAX)],
                             render_kw={"rows": 4, "spellcheck": "false"})

    def __init__(self, *args: Any, cell_choices: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.area_kind.choices = [("cells", _l("Cells")), ("polygon", _l("An area drawn on the map"))]
        self.cells.choices = cell_choices or []

    def validate_due_on(self, field: Any) -> None:
        if self.starts_on.data and field.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The target date cannot be before the start date."))

    def validate_cells(self, field: Any) -> None:
        if self.area_kind.data == "cells" and not field.data:
            raise ValidationError(_l("Choose at least one cell."))


class ActionForm(FlaskForm):
    """An empty form: the POST-only buttons carry its CSRF token."""

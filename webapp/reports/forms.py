"""Forms of the reports pages: a committee's residence check, closing a cycle, raising tasks."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from webapp.models.enums import ResidenceCheckResult
from webapp.templating import lang

NOTE_MAX = 200  # ResidenceCheck.note


class ResidenceCheckForm(FlaskForm):
    result = RadioField(_l("Result of the check"), validators=[InputRequired()])
    note = TextAreaField(_l("What was seen"), validators=[Length(max=NOTE_MAX)],
                         render_kw={"maxlength": NOTE_MAX, "rows": 2})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.result.choices = ResidenceCheckResult.choices(lang())


class CycleForm(FlaskForm):
    cycle = HiddenField(validators=[DataRequired()])


class RaiseTasksForm(FlaskForm):
    rule = HiddenField(validators=[DataRequired()])

"""Closing a tip: done or rejected, with what was found."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from webapp.models.enums import TipStatus
from webapp.models.tip import TIP_TEXT_MAX
from webapp.templating import lang


class CloseTipForm(FlaskForm):
    # The version the user saw; another version on save means someone else closed it first.
    version = HiddenField()
    status = RadioField(_l("Result"), validators=[InputRequired()])
    outcome = TextAreaField(_l("What was found or done"),
                            validators=[DataRequired(), Length(max=TIP_TEXT_MAX)],
                            render_kw={"maxlength": TIP_TEXT_MAX, "rows": 2})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = [c for c in TipStatus.choices(lang()) if c[0] != TipStatus.OPEN]

"""The committee's decision for one applicant: certify on a basis, or refuse with a reason."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from webapp.models.enums import ResidenceBasis
from webapp.templating import lang

NOTE_MAX = 200  # ResidenceCheck.note


class DecisionForm(FlaskForm):
    person = SelectField(_l("Applicant"), validators=[InputRequired()])
    result = RadioField(_l("Residence decision"), validators=[InputRequired()])
    basis = SelectField(_l("Basis"), validators=[Optional()])
    note = TextAreaField(_l("Reason or note"), validators=[Length(max=NOTE_MAX)],
                         render_kw={"maxlength": NOTE_MAX, "rows": 2})

    def __init__(self, *args: Any, applicants: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.person.choices = applicants or []
        self.result.choices = [("stable", str(_l("Certify a legal stable residence"))),
                               ("refused", str(_l("Refuse (不予出具)")))]
        self.basis.choices = [("", str(_l("(choose the basis)")))] + ResidenceBasis.choices(lang())

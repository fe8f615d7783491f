"""A community reporter's report: what, as whom, and details (the residents' rules)."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import RadioField
from wtforms.validators import InputRequired

from webapp.models.enums import TaskSource
from webapp.public.forms import DeclarationForm
from webapp.oversight.tasks.community import REPORTER_SOURCES
from webapp.templating import lang


class ReportForm(DeclarationForm):
    """The plate page's form, less the call-back number (the reporter has an account)."""

    contact_phone = None  # type: ignore[assignment]
    number_refused = _l("Please don't type ID or phone numbers in the description.")
    reporting_as = RadioField(_l("I report as"), validators=[InputRequired()], default=TaskSource.LEAD)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reporting_as.choices = [(s.value, s.label(lang())) for s in REPORTER_SOURCES]

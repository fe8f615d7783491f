"""The residents' declaration form (it makes a task). Phone validation is `webapp.validation`'s."""
from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional, StopValidation, ValidationError

from webapp import validation
from webapp.models.enums import TaskKind
from webapp.models.task import TASK_TEXT_MAX
from webapp.registry.tasks import clean_text
from webapp.templating import bilingual, lang

# Control characters other than tab and line breaks: nobody types them, and PostgreSQL
# refuses NUL in text outright.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _at_most(longest: int, said: int | None) -> Any:
    """Stop at more than `longest` characters, saying "at most `said`" (the real limit, checked
    after cleaning) or, for a phone, that it is not one."""
    def check(_form: Any, field: Any) -> None:
        if field.data and len(field.data) > longest:
            raise StopValidation(str(_l("At most %(max)d characters, please.", max=said)) if said
                                 else str(_l("This is not a mobile number.")))
    return check


class DeclarationForm(FlaskForm):
    kind = RadioField(_l("What do you want to tell us?"),
                      validators=[InputRequired(_l("Please choose what you want to tell us."))])
    # The length is checked after line breaks are made uniform (see validate_text); the
    # guard before it only stops absurd input, with the same words and nothing after them
    # (WTForms' own message and ours both showed for one problem).
    text = TextAreaField(_l("Details"), validators=[_at_most(4 * TASK_TEXT_MAX, TASK_TEXT_MAX)],
                         render_kw={"maxlength": TASK_TEXT_MAX, "rows": 5})
    contact_phone = StringField(
        _l("Your mobile number, if you would like a call back (optional)"),
        validators=[Optional(), _at_most(32, None)],
        render_kw={"inputmode": "tel", "autocomplete": "tel"},
    )

    parsed_phone: str | None = None
    # What the details may not hold is read by webapp.validation (names_id_or_mobile); the
    # words point to the field a call-back number belongs in.
    number_refused = _l("Please don't type ID or phone numbers in the description; "
                        "put a contact phone in the phone field.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = TaskKind.choices(lang())

    def validate_text(self, field: TextAreaField) -> None:
        text = clean_text(field.data)
        if _CONTROL.search(text):
            raise ValidationError(str(_l("The text contains characters that cannot be saved.")))
        if len(text) > TASK_TEXT_MAX:
            raise ValidationError(str(_l("At most %(max)d characters, please.", max=TASK_TEXT_MAX)))
        if validation.names_id_or_mobile(text):
            # The hint above the form asked, and was not always heeded: the text reaches the
            # workers' phones and the police whole, where a number typed is a person's in clear.
            raise ValidationError(str(self.number_refused))
        if not text and self.kind.data == TaskKind.PROBLEM:
            raise ValidationError(str(_l("Please describe the problem.")))

    def validate_contact_phone(self, field: StringField) -> None:
        if field.data:
            try:
                self.parsed_phone = validation.parse_mobile(field.data, field="contact_phone")
            except validation.ValidationError as error:
                raise ValidationError(bilingual(error.errors[0])) from None

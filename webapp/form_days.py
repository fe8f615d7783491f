"""The days a console form takes: the window a push checks too (webapp/validation/ranges.py
DAYS), so a permit typed as issued in 9999 is refused at either door."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from wtforms.validators import ValidationError

from webapp.validation import ranges


def plausible_day(_form: Any, field: Any) -> None:
    """A WTForms validator for a DateField: empty, or a day within ranges.DAYS."""
    if field.data and not ranges.plausible_day(field.data):
        low, high = (d.isoformat() for d in ranges.DAYS)
        raise ValidationError(_("Enter a day from %(low)s to %(high)s.", low=low, high=high))

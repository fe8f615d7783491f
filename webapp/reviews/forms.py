"""Deciding a review, and switching review on or off for a committee."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, TextAreaField

from webapp.models.review import REVIEW_REASON_MAX


class DecideForm(FlaskForm):
    # The version the user saw; another one on save means someone decided or resubmitted meanwhile.
    version = HiddenField()
    # Required to return (checked by the rules, so the message is the same as on phones).
    reason = TextAreaField(_l("Reason"), render_kw={"maxlength": REVIEW_REASON_MAX, "rows": 2})


class SettingForm(FlaskForm):
    version = HiddenField()
    review_required = BooleanField(_l("Registrations and move-outs entered by coordinators need a grid lead's review"))

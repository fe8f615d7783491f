from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class RevokeForm(FlaskForm):
    """Only the CSRF token: revoking is one button, but never a cross-site one."""


class RescueForm(FlaskForm):
    file = FileField(_l("Exported outbox file (JSON)"), validators=[FileRequired(_l("Choose the file."))])

"""Closing a task (done or rejected, with what was found and its result), and reassigning it."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from webapp.form_days import plausible_day
from webapp.models.enums import TaskResult, TaskStatus
from webapp.models.task import TASK_TEXT_MAX
from webapp.templating import lang


class CloseTaskForm(FlaskForm):
    # The version the user saw; another version on save means someone else closed it first.
    version = HiddenField()
    status = RadioField(_l("Result"), validators=[InputRequired()])
    # Optional for the forms of older pages; "changed" is what counts for a reporter.
    result = SelectField(_l("Outcome"), validators=[Optional()])
    outcome = TextAreaField(_l("What was found or done"),
                            validators=[DataRequired(), Length(max=TASK_TEXT_MAX)],
                            render_kw={"maxlength": TASK_TEXT_MAX, "rows": 2})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = [c for c in TaskStatus.choices(lang()) if c[0] != TaskStatus.OPEN]
        self.result.choices = [("", "—"), *TaskResult.choices(lang())]


class AssignTaskForm(FlaskForm):
    """Another coordinator of the same cell (or all of them), and the due date."""

    version = HiddenField()
    # "" = the cell's coordinators together; the choices are set per task by the view.
    assignee = SelectField(_l("Assigned to"), validate_choice=True)
    due_on = DateField(_l("Due on"), validators=[InputRequired(), plausible_day])

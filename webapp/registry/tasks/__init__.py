"""Tasks (待办): the record itself — making, finding and closing a task for the house's cell
(`records`) — and its own defaults (due dates, assignee) and settings, which creating any task
needs. The generators, escalation and reassignment sit above `sync/` and `geo/` in
`webapp.oversight.tasks`."""
from webapp.registry.tasks.defaults import fill_defaults, set_defaults, sole_coordinators
from webapp.registry.tasks.records import (
    UNASSIGNED, TaskError, clean_text, client_key, close_task, create_task, find_visible, result_problem,
    visible_tasks, visit_problem,
)
from webapp.registry.tasks.settings import TaskSettings, default_settings

__all__ = ["TaskError", "TaskSettings", "UNASSIGNED", "clean_text", "client_key", "close_task", "create_task",
           "default_settings", "fill_defaults", "find_visible", "result_problem", "set_defaults",
           "sole_coordinators", "visible_tasks", "visit_problem"]

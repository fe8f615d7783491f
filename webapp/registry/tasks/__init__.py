"""The task record's own defaults (due dates, assignee) and settings, which creating any
task needs. The generators, escalation and reassignment sit above `sync/` and `geo/` in
`webapp.oversight.tasks`."""
from webapp.registry.tasks.defaults import fill_defaults, set_defaults, sole_coordinators
from webapp.registry.tasks.settings import TaskSettings, default_settings

__all__ = ["TaskSettings", "default_settings", "fill_defaults", "set_defaults", "sole_coordinators"]

"""Tasks (待办) around the one task model, `Task`: defaults, generators, escalation,
reassignment, and community reporters. Plain Python over a Session: no Flask.

    settings = TaskSettings.from_config(app.config)
    generate(session, settings, today)   # permits due, houses unvisited late in the cycle
    escalate(session, today)             # overdue open tasks get escalated_at
"""
from webapp.oversight.tasks.assign import AssignError, coordinators_of, reassign, set_due
from webapp.registry.tasks.defaults import fill_defaults, set_defaults
from webapp.oversight.tasks.escalate import escalate
from webapp.oversight.tasks.generate import Generated, generate, permits_due, unvisited_late
from webapp.registry.tasks.settings import TaskSettings, default_settings

__all__ = [
    "AssignError", "Generated", "TaskSettings", "coordinators_of", "default_settings", "escalate", "fill_defaults",
    "generate", "permits_due", "reassign", "set_defaults", "set_due", "unvisited_late",
]

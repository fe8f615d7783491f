"""Tasks (待办, model `Task`): the console queue with its filters, closing, reassignment and
due dates; `flask tasks generate|escalate` for a cron."""
from flask import Blueprint

bp = Blueprint("tasks", __name__, cli_group="tasks")
bp.cli.help = "Tasks (待办): generate and escalate them, daily from a cron."

from webapp.tasks import cli, old_urls, views  # noqa: E402,F401  (registers the routes and commands)

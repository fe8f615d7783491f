"""Tasks (待办, model `Tip`): the console queue with its filters, closing, reassignment and
due dates; `flask tasks generate|escalate` for a cron."""
from flask import Blueprint

bp = Blueprint("tips", __name__, cli_group="tasks")
bp.cli.help = "Tasks (待办): generate and escalate them, daily from a cron."

from webapp.tips import cli, views  # noqa: E402,F401  (registers the routes and commands)

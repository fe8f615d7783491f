"""Community reporters (楼组长, volunteers, property guards) on their phones: find a house
of their committee, file a report, follow its outcome; and, for the committee and the
centre, what each reporter's reports led to. Not `webapp/reports/`, the centre's lists."""
from flask import Blueprint

bp = Blueprint("community", __name__, url_prefix="/community", cli_group="community")
bp.cli.help = "Community reporters (楼组长, volunteers, property guards)."

from webapp.community import cli, views  # noqa: E402,F401  (registers the routes and commands)

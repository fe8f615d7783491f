"""The conflict queue: what sync could not merge, decided by the centre or the committee."""
from flask import Blueprint

bp = Blueprint("conflicts", __name__)

from webapp.conflicts import views  # noqa: E402,F401  (registers the routes)

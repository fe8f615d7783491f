"""Review (审核) of coordinators' registrations and move-outs: the console queue, approving or
returning with a reason, resubmitting, and the per-committee setting."""
from flask import Blueprint

bp = Blueprint("reviews", __name__)

from webapp.reviews import views  # noqa: E402,F401  (registers the routes)

"""Key-area campaigns (重点区域排查整治) and running the collection cycle, for the centre;
their progress for everyone who sees the cells."""
from flask import Blueprint

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")

from webapp.campaigns import views  # noqa: E402,F401  (registers the routes)

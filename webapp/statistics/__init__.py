"""Statistics of the register (/statistics): charts drawn as SVG on the server, each with its
table and an export; the residents behind a bar, masked as the role sees them."""
from flask import Blueprint

bp = Blueprint("statistics", __name__, url_prefix="/statistics")

from webapp.statistics import views  # noqa: E402,F401  (registers the routes)

"""The coverage map: which houses of which cells were visited this cycle (不遗漏)."""
from flask import Blueprint

bp = Blueprint("coverage", __name__, url_prefix="/coverage")

from webapp.coverage import views  # noqa: E402,F401  (registers the routes)

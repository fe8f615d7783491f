"""The register of units (/units): list and search, within the user's cells."""
from flask import Blueprint

bp = Blueprint("units", __name__)

from webapp.units import views  # noqa: E402,F401  (registers the routes)

from flask import Blueprint

bp = Blueprint("extract", __name__, url_prefix="/extract")

from webapp.extract import views  # noqa: E402,F401  (registers the routes)

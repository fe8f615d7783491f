from flask import Blueprint

bp = Blueprint("console", __name__)

from webapp.console import history, versions, views  # noqa: E402,F401  (registers the routes)

"""The public plate page /h/<code>: the address, public information, and residents' declarations (tasks)."""
from flask import Blueprint

bp = Blueprint("public", __name__)

from webapp.public import views  # noqa: E402,F401  (registers the routes)

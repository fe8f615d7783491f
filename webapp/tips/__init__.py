"""Tips (线索): the console queue of residents' and leads' reports, and closing them."""
from flask import Blueprint

bp = Blueprint("tips", __name__)

from webapp.tips import views  # noqa: E402,F401  (registers the routes)

"""Third-party front-end files, installed by npm (package-lock.json) and served from our own
origin: the app must work on a closed network, and nothing is copied into git."""
from flask import Blueprint

bp = Blueprint("vendor", __name__)

from webapp.vendor import views  # noqa: E402,F401  (registers the routes)

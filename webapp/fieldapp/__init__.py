"""The coordinators' field app: the app shell, its manifest and the root-scope service worker."""
from flask import Blueprint

bp = Blueprint("fieldapp", __name__)

from webapp.fieldapp import views  # noqa: E402,F401  (registers the routes)

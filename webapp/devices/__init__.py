"""Phones that sync: the list (with stranded work), revoking, and rescue import."""
from flask import Blueprint

bp = Blueprint("devices", __name__)

from webapp.devices import views  # noqa: E402,F401  (registers the routes)

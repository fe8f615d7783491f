"""合法稳定住所 decisions (/houses/<id>/residence-decision) and their printable certificates."""
from flask import Blueprint

bp = Blueprint("residence", __name__)

from webapp.residence import views  # noqa: E402,F401  (registers the routes)

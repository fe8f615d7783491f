"""Plates: printable QR door plates for the houses of a cell, a building or one house."""
from flask import Blueprint

bp = Blueprint("plates", __name__)

from webapp.plates import views  # noqa: E402,F401  (registers the routes)

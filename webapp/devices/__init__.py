"""Phones that sync: the list (with stranded work), revoking, and rescue import."""
from flask import Blueprint

from webapp.devices.labels import device_name

bp = Blueprint("devices", __name__)
# A phone's name in words, on every page that lists phones (account, admin, conflicts, here).
bp.add_app_template_global(device_name, "device_name")

from webapp.devices import views  # noqa: E402,F401  (registers the routes)

"""The centre's administration of logins (/admin). For now the password reset; issue 19 grows
the user list and pages here."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from webapp.admin import views  # noqa: E402,F401  (registers the routes)

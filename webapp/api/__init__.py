from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from webapp.api import views  # noqa: E402,F401  (registers the routes)
from webapp.api import walk  # noqa: E402,F401  (the walking order for the field app)
from webapp.api import device_self  # noqa: E402,F401  (a phone revoking its own token at logout)

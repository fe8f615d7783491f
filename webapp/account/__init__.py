"""One's own login: change the password, end sessions, end one's phones' tokens (/account)."""
from flask import Blueprint

bp = Blueprint("account", __name__)

from webapp.account import views  # noqa: E402,F401  (registers the routes)

"""The audit log's pages (/audit): the centre reads who did what, exports it, and prints a
person's access report. The log itself is written by webapp/audit.py and never changed."""
from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")

from webapp.auditlog import views  # noqa: E402,F401  (registers the routes)

"""The centre's reports: daily lists, rule findings, quality grading (达标), exports."""
from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from webapp.reports import grading_views, views, work_views  # noqa: E402,F401  (registers the routes)

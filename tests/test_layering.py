"""`sync/`, `geo/`, the models and validation must work without Flask."""
from __future__ import annotations

import subprocess
import sys


def test_pure_packages_do_not_import_flask() -> None:
    code = (
        "import sys, webapp.models, webapp.validation, webapp.registry.scope, "
        "webapp.registry.search, webapp.registry.retention, geo, sync, "
        "webapp.registry.plates, webapp.registry.ratelimit, webapp.registry.tips, webapp.registry.code_lookup, "
        "webapp.registry.changelog, webapp.registry.versions, webapp.registry.staff, webapp.oversight.auditlog, "
        "webapp.oversight.statistics, webapp.oversight.charts, webapp.oversight.coordinators, webapp.oversight.jobs, "
        "webapp.oversight.todo\n"
        "bad = sorted(m for m in sys.modules if m == 'flask' or m.startswith(('flask.', 'flask_')))\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

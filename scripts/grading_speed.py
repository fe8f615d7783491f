"""How long the subdistrict grading report (issue 6) takes on a demo database: the live
grades of the current cycle for the whole area, as GET /reports/grading computes them.
A quick measurement, not a test:

    FLASK_APP=webapp:create_app DATABASE_URL=sqlite:////tmp/s40.sqlite3 .venv/bin/flask db upgrade heads
    FLASK_APP=webapp:create_app DATABASE_URL=sqlite:////tmp/s40.sqlite3 .venv/bin/flask seed-demo --scale 40
    DATABASE_URL=sqlite:////tmp/s40.sqlite3 .venv/bin/python scripts/grading_speed.py [runs]

Prints wall and CPU seconds per run and a digest of the grades, so that a faster version
can be checked to grade exactly as before.
"""
from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo.cycles import current_cycle  # noqa: E402
from geo.settings import GeoSettings  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.oversight.grading import grade_cycle  # noqa: E402
from webapp.registry.rules.settings import RuleSettings  # noqa: E402
from webapp.base.timeutil import local_today  # noqa: E402


def main(runs: int) -> None:
    app = create_app()
    with app.app_context():
        geo, rules = GeoSettings.from_config(app.config), RuleSettings.from_config(app.config)
        cycle = current_cycle(db.session, local_today(), settings=geo)
        db.session.commit()
        for _ in range(runs):
            wall, cpu = time.perf_counter(), time.process_time()
            report = grade_cycle(db.session, cycle, today=local_today(), settings=rules, geo_settings=geo)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            rows = [(str(r.committee_id), r.score, r.grade, sorted(r.scored.counts.items()))
                    for r in [*report.rows, report.total]]
            digest = hashlib.sha1(json.dumps(rows).encode()).hexdigest()[:12]
            print(f"cycle {cycle.name}: {len(report.rows)} committees graded in {wall:.2f} s "
                  f"({cpu:.2f} s CPU); subdistrict {report.total.score} {report.total.grade}; grades {digest}")
            db.session.rollback()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)

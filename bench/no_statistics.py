"""A coordinator's first pull on PostgreSQL with no planner statistics, then after ANALYZE.

Issue 17: on a freshly seeded PostgreSQL database a first pull ran past gunicorn's 30 s worker
timeout until autovacuum's first ANALYZE. The seed, an extract import and a restore now analyse
(webapp/dbsetup.refresh_statistics); this checks the other half, that the pull does not depend on
it. A throwaway cluster (autovacuum off) gets the bench district by COPY; every statistic of the
public tables is then removed (pg_statistic rows; pg_class.reltuples -1, relpages 0: as never
analysed) and the pull is timed in process, each protocol's page size as its app asks.

    .venv/bin/python -m bench.no_statistics [--scale 4] [--houses 2000] [--protocol 2]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from bench.dataset import PASSWORD, app_config, build, cells_by_code, make_coordinator, pick_cells
from tests.pg import pg_cluster

PAGE = {1: 2000, 2: 10000}  # rows a page, as app 0.6.0 and app 0.7.0 ask


def forget_statistics(engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(text("DELETE FROM pg_statistic WHERE starelid IN "
                       "(SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)"))
        c.execute(text("UPDATE pg_class SET reltuples = -1, relpages = 0 "
                       "WHERE relnamespace = 'public'::regnamespace"))


def first_pull(client: Any, headers: dict[str, str], protocol: int) -> tuple[float, int]:
    start, cursor, pages = time.perf_counter(), None, 0
    while True:
        query = {"protocol": str(protocol), "limit": str(PAGE[protocol]), **({"cursor": cursor} if cursor else {})}
        r = client.get("/api/sync/pull", query_string=query, headers=headers)
        assert r.status_code == 200, r.get_data(as_text=True)[:300]
        body, pages = r.get_json(), pages + 1
        cursor = body.get("cursor")
        if not body.get("more"):
            return time.perf_counter() - start, pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=4)
    parser.add_argument("--houses", type=int, default=2000)
    parser.add_argument("--protocol", type=int, choices=(1, 2), default=2)
    args = parser.parse_args(argv)
    from webapp.app import create_app
    from webapp.extensions import db

    with pg_cluster() as url, tempfile.TemporaryDirectory(prefix="gw-nostats-") as tmp:
        district = build("postgresql", url, args.scale, Path(tmp))
        area, houses = pick_cells(cells_by_code(district.engine), 0, args.houses)
        make_coordinator(district.engine, "nostats", area)
        with district.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("ALTER SYSTEM SET autovacuum = off"))
            c.execute(text("SELECT pg_reload_conf()"))
        app = create_app(app_config(url))
        client = app.test_client()
        token = client.post("/api/devices", json={"username": "nostats", "password": PASSWORD,
                                                  "label": "bench"}).get_json()["token"]
        headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
        print(f"scale {args.scale:g}, {houses:,} houses, protocol {args.protocol}", flush=True)
        for state in ("no statistics", "after ANALYZE"):
            if state == "no statistics":
                forget_statistics(district.engine)
            else:
                with district.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                    c.execute(text("ANALYZE"))
            with app.app_context():
                db.engine.dispose()  # new connections: no plan cached from before
            for run in ("first", "again"):
                seconds, pages = first_pull(client, headers, args.protocol)
                print(f"{state}, {run}: {seconds:.2f} s, {pages} pages", flush=True)
        with app.app_context():
            db.engine.dispose()
        district.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""`make bench` at a tiny size, so the benchmark code cannot rot. No timing assertions: only
that every figure is produced and positive (speed is for `make bench`, see BENCHMARKS.md),
that the copies each backend measures agree, and that a kept district is reused."""
from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bench import cache
from bench.report import FINDINGS_TITLE, Report, Row, rewrite, write_section
from bench.run import SMOKE, run, wanted

pytestmark = pytest.mark.slow  # every benchmark figure, small: `make test`, not `make check`

BACKENDS = [b for b in os.environ.get("GRIDWALK_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_every_figure_is_produced_and_positive(tmp_path: Path) -> None:
    # The browser figures (5, 7) are left out here for now: under pytest their first sync never
    # completed (a 300 s wait; likely filterwarnings=error raising in the server thread) while
    # the same code passes via `python -m bench.run --smoke`. To diagnose before enabling.
    report = run(replace(SMOKE), BACKENDS, browser=False, command="pytest", cache=tmp_path / "kept")
    (tmp_path / "BENCHMARKS.md").write_text(report.markdown(), encoding="utf-8")
    figures = {row.figure for row in report.rows}
    assert {"1", "2", "3", "4", "6"} <= figures
    for row in report.rows:
        number = re.match(r"[+]?([0-9][0-9,]*\.?[0-9]*)", row.measured)
        assert number and float(number.group(1).replace(",", "")) > 0, row
    assert {row.backend.split(" ")[0] for row in report.rows} >= set(BACKENDS)
    # The PostgreSQL district is a COPY of the SQLite build: same houses, same coverage.
    districts = {row.backend for row in report.rows if row.figure == "2"}
    assert len({d.split(" ", 1)[1] for d in districts}) == 1, districts
    assert all("figures agree: yes" in row.what for row in report.rows if row.what.startswith("coverage, ") and
               "agree" in row.what)
    # A fresh cache: the first backend generates the districts, the second reuses them.
    assert report.from_cache == {b: i > 0 for i, b in enumerate(BACKENDS)}
    kept = sorted(p.name for p in (tmp_path / "kept").iterdir())
    assert kept == [f"district-scale{s:g}-{cache.generator_version()}.sqlite3"
                    for s in sorted((SMOKE.scale, SMOKE.small_scale), key=lambda s: f"{s:g}")]


def _fake_build(url: str) -> None:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        conn.execute("CREATE TABLE house (id INTEGER)")


def test_a_kept_district_is_reused_and_rebuilt_when_the_generator_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = cache.cached_district(2, _fake_build, cache=tmp_path)
    assert built.built
    again = cache.cached_district(2, lambda _url: pytest.fail("rebuilt a kept district"), cache=tmp_path)
    assert not again.built and again.path == built.path
    monkeypatch.setattr(cache, "BUILD", cache.BUILD + "-next")  # as if the generator changed
    rebuilt = cache.cached_district(2, _fake_build, say=lambda _msg: None, cache=tmp_path)
    assert rebuilt.built and rebuilt.path != built.path
    assert [p.name for p in tmp_path.iterdir()] == [rebuilt.path.name]  # the stale one is gone


def test_only_the_figures_asked_for(tmp_path: Path) -> None:
    report = run(replace(SMOKE), ["sqlite"], browser=False, command="pytest", cache=tmp_path / "kept",
                 figures=wanted("4"))
    assert {row.figure for row in report.rows} == {"4"}
    # Figure 3's small district is not built when 3 is not asked for.
    assert [p.name for p in (tmp_path / "kept").iterdir()] == [
        f"district-scale{SMOKE.scale:g}-{cache.generator_version()}.sqlite3"]


def test_which_figures_only_asks_for() -> None:
    assert wanted(None) == wanted("") == frozenset("1234567")
    assert wanted("1, 4") == {"1", "4"}
    assert wanted("6") == {"2", "6"}  # 6's server side measures the device figure 2 sets up
    with pytest.raises(SystemExit, match="no figure 9"):
        wanted("1,9")


def test_the_pull_history_figure_is_produced() -> None:
    """Figure 11 (bench/pull_history.py), tiny: a history of one push, three syncs, SQLite."""
    from bench import pull_history

    results = [pull_history.one("sqlite", history, syncs=3, houses=50) for history in (0, 500)]
    assert all(r["pull_cpu_ms"] > 0 and r["rows_per_pull"] == 30 for r in results), results
    text = pull_history.section(results, 1.0, "pytest")
    assert text.startswith(pull_history.BEGIN) and text.endswith(pull_history.END)
    assert "| sqlite | 500 | 30 |" in text, text


def test_the_sqlite_writers_figure_is_produced() -> None:
    """Figure 12 (bench/sqlite_writers.py), tiny: two processes of two threads, both ways."""
    from bench import sqlite_writers

    results = [sqlite_writers.one(line, processes=2, threads=2, writes=3) for line in (True, False)]
    assert [(r["line"], r["writes"]) for r in results] == [(True, 12), (False, 12)]
    assert all(0 <= r["p50_ms"] <= r["p90_ms"] <= r["p99_ms"] <= r["max_ms"] and r["writes_per_s"] > 0 for r in results)
    text = sqlite_writers.section(results, 2, 2, 1.0, "pytest")
    assert text.startswith(sqlite_writers.BEGIN) and text.endswith(sqlite_writers.END)


def test_the_wire_figure_says_which_targets_this_run_missed() -> None:
    """Figure 10's closing sentence follows the table, not a sentence written once by hand."""
    from bench import wire

    def side(push_s: float, second_s: float) -> dict[str, Any]:
        step = {"s": 0.3, "requests": 2, "kb_in": 800.0, "kb_out": 100.0, "rows": 17_000, "times": [0.3]}
        return {"first_pull": step, "push": {**step, "s": push_s, "kb_in": 6.0},
                "pull_after": {**step, "kb_in": 1.0}, "second_push": {**step, "s": second_s, "kb_in": 6.0, "times": [second_s]},
                "wire": {"connections": 1, "requests": 30}}

    def text(push_s: float, second_s: float) -> str:
        report = {"houses": 2_000, "protocol1": side(1.0, 1.0), "protocol2": side(push_s, second_s),
                  "peer": wire.PEER, "load_average": [0.5], "gunicorn_args": "gunicorn.conf.py",
                  "workers": 2}
        return wire.section(report, 1.0, "pytest")

    assert "Missed in this run: second push, same size (time)." in text(0.50, 0.43)
    assert "Missed in this run: push of 2,000 new + 500 edits (time); second push, same size (time)." in text(0.60, 0.43)
    assert "Every target above is met in this run." in text(0.50, 0.20)
    assert "database's own share" not in text(0.50, 0.20)
    floor = {"s": 0.073, "times": [0.07, 0.073, 0.08], "rows": 6500, "changed": {"person": 500},
             "tables": {"record_version": 1500, "person": 1000, "residency": 1000, "sync_mutation": 2500}}
    report = {"houses": 2_000, "protocol1": side(1.0, 1.0), "protocol2": {**side(0.5, 0.36), "floor": floor},
              "peer": wire.PEER, "load_average": [0.5], "gunicorn_args": "gunicorn.conf.py", "workers": 2}
    said = wire.section(report, 1.0, "pytest")
    assert ("the 6,500 rows the last push wrote (1,500 record_version, 1,000 person, 1,000 residency, "
            "2,500 sync_mutation new; 500 person changed" in said), said
    assert "take **0.07 s** (median of 3): 34% of the second push's target of 0.21 s" in said, said
    assert "sent again" not in said
    resend = {**side(0.5, 0.36)["push"], "s": 0.05, "times": [0.05, 0.06], "statuses": {"already_applied": 2500}}
    said = wire.section({**report, "protocol2": {**report["protocol2"], "resend": resend},
                         "protocol1": {**report["protocol1"], "resend": resend}}, 1.0, "pytest")
    assert "| the last push sent again (its answer lost) | time | 0.05 s | 0.05 s | — | — | — | — |" in said, said
    assert "2,500 of 2,500 mutations answered `already_applied`" in said, said


def test_the_wire_figure_on_postgresql_has_its_own_section() -> None:
    """`--backend postgresql` writes beside figure 10, not over it, and says where it ran."""
    from bench import wire

    step = {"s": 0.3, "requests": 2, "kb_in": 800.0, "kb_out": 100.0, "rows": 17_000, "times": [0.3]}
    side = {"first_pull": step, "push": step, "pull_after": step, "second_push": step,
            "wire": {"connections": 1, "requests": 30}}
    report = {"houses": 2_000, "protocol1": side, "protocol2": side, "peer": wire.PEER, "load_average": [0.5],
              "gunicorn_args": "gunicorn.conf.py", "workers": 2, "backend": "postgresql"}
    said = wire.section(report, 1.0, "pytest")
    assert said.startswith(wire.MARKS["postgresql"][0]) and said.endswith(wire.MARKS["postgresql"][1])
    assert wire.BEGIN not in said and "on PostgreSQL;" in said and "The peer was not run here" not in said
    said = wire.section({**report, "backend": "sqlite"}, 1.0, "pytest")
    assert said.startswith(wire.BEGIN) and "on SQLite;" in said and "The peer was not run here" in said


def test_the_wire_relay_sends_each_segment_at_once() -> None:
    """Figure 10's byte-counting relay must not slow what it counts. Without TCP_NODELAY on its
    own sockets, Nagle held a small answer's last segment until the far side's delayed ACK:
    40 ms stalls that made a resent push (small answers) look as slow as a new one."""
    from bench import wire

    with socket.create_server(("127.0.0.1", 0)) as upstream:
        relay = wire.Relay(upstream.getsockname()[:2])
        try:
            with socket.create_connection(("127.0.0.1", relay.port), timeout=10) as phone:
                server_side, _ = upstream.accept()
                with server_side:
                    phone.sendall(b"ping")
                    assert server_side.recv(4) == b"ping"  # through the relay, both ways open
                    assert len(relay.ends) == 2
                    assert all(end.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for end in relay.ends)
        finally:
            relay.close()


def test_rewriting_the_report_keeps_the_figures_written_by_their_own_commands(tmp_path: Path) -> None:
    """`python -m bench.report` (the findings changed, nothing measured) dropped figures 8 to
    12, which bench.wire and the others write into BENCHMARKS.md after the main run."""
    out = tmp_path / "BENCHMARKS.md"
    first = Report(machine={"cpu": "test"}, command="make bench", rows=[Row("1", "push", "sqlite", "1 mut/s")],
                   sections=[(FINDINGS_TITLE, "found A")])
    out.write_text(first.markdown(), encoding="utf-8")
    for name, body in (("bench.wire", "## Sync on the wire\n\nten"), ("bench.fieldapp_map", "## Map\n\neleven")):
        write_section(out, f"<!-- {name} -->\n{body}\n<!-- /{name} -->", f"<!-- {name} -->", f"<!-- /{name} -->")
    first.sections = [(FINDINGS_TITLE, "found B")]
    rewrite(out, first)
    doc = out.read_text(encoding="utf-8")
    assert "found B" in doc and "found A" not in doc
    assert doc.index("ten") < doc.index("eleven") < doc.index(f"## {FINDINGS_TITLE}")
    assert doc.count("<!-- bench.wire -->") == 1 and doc.count("<!-- /bench.fieldapp_map -->") == 1


def test_the_database_floor_writes_again_exactly_what_the_push_wrote(tmp_path: Path) -> None:
    """Figure 10's floor (bench.push.driver_write): the rows one push wrote, deleted and written
    again by SQLite alone. Measured on the same rows, or it measures nothing: the registry
    after it is the registry before it, row for row, with the new rows really written anew."""
    from types import SimpleNamespace

    from sqlalchemy import text

    from bench import wire
    from bench.dataset import PASSWORD, app_config, build, cells_by_code, make_coordinator, pick_cells
    from webapp import create_app

    url = f"sqlite:///{tmp_path / 'district.sqlite3'}"
    district = build("sqlite", url, 0.2, tmp_path, say=lambda _s: None)
    area, _n = pick_cells(cells_by_code(district.engine), 0, 100)
    make_coordinator(district.engine, "wire", area)
    client = create_app(app_config(url)).test_client()
    token = client.post("/api/devices", json={"username": "wire", "password": PASSWORD, "label": "floor"}).get_json()["token"]
    batch = wire.work(district.engine, SimpleNamespace(seq=0), area, new=40, edits=10)
    marks = wire.marks_before(district.engine, batch)
    answer = client.post("/api/sync/push", json={"protocol": 2, "mutations": batch},
                         headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and {o["status"] for o in answer.get_json()["outcomes"]} == {"applied"}
    tables = ("person", "residency", "sync_mutation", "record_version")

    def value(v: Any) -> Any:
        # The change log's snapshots are JSON that SQLite wrote; written again from Python they
        # are the same objects in other spacing.
        return json.loads(v) if isinstance(v, str) and v.startswith("{") else v

    def contents() -> dict[str, list[Any]]:
        with district.engine.connect() as conn:
            return {t: sorted((tuple(map(value, row)) for row in conn.execute(text(f"SELECT * FROM {t}"))), key=repr)
                    for t in tables}

    before = contents()
    with district.engine.begin() as conn:  # which persons are inserted from here on
        conn.execute(text("CREATE TABLE inserted (id TEXT)"))
        conn.execute(text("CREATE TRIGGER note_insert AFTER INSERT ON person BEGIN "
                          "INSERT INTO inserted VALUES (new.id); END"))
    floor = wire.database_floor(district.engine, batch, marks, repeats=2)
    assert contents() == before
    with district.engine.connect() as conn:
        inserted = list(conn.scalars(text("SELECT id FROM inserted")))
    created = {uuid.UUID(m["record_id"]) for m in batch if m["type"] == "person" and m["op"] == "create"}
    assert len(inserted) == 2 * len(created) and {uuid.UUID(i) for i in inserted} == created  # each repeat wrote them
    assert floor["tables"] == {"record_version": 30, "person": 20, "residency": 20, "sync_mutation": 50}
    assert floor["changed"] == {"person": 10} and floor["rows"] == 130 and floor["s"] > 0


def test_the_push_profile_is_produced() -> None:
    """bench/push_profile.py, tiny: every step timed, the driver's own share read and smaller
    than the push it is part of."""
    from bench import push_profile

    report = push_profile.run(scale=0.1, rounds=2, new=20, edits=5)
    assert report["mutations_per_round"] == 25 and len(report["seconds"]["all"]) == 2
    labels = {label for _module, _name, label in push_profile.STEPS}
    assert set(report["steps_ms"]) == labels and all(v > 0 for v in report["steps_ms"].values()), report
    assert 0 < report["sqlite_ms"] < 1000 * max(report["seconds"]["all"]) * 2, report

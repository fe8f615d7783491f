"""`python -m bench.run [--smoke] [--only 1,4]`: every figure on SQLite and PostgreSQL → BENCHMARKS.md.

The district is generated once per scale and kept between runs (bench/cache.py); each run
copies it (SQLite) or COPYs it (PostgreSQL) and every figure of the run reuses that copy.
Figure 3's second size point is a smaller district kept the same way.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from bench import geo, history, pull, push
from bench.cache import CACHE
from bench.dataset import District, build, cells_by_code, make_coordinator, pick_cells
from bench.machine import describe
from bench.progress import Steps
from bench.report import FINDINGS_TITLE, Report, Row, show
from bench.server import Served, pull_round, register
from bench.stats import Sample

ROOT = Path(__file__).resolve().parent.parent
FINDINGS = ROOT / "bench" / "findings.md"
LAST_RUN = CACHE / "last-run.json"  # the last full run's figures (python -m bench.report)


@dataclass(frozen=True)
class Sizes:
    scale: float = 40  # ≥ 200,000 houses, ≥ 1,000 cells
    small_scale: float = 4  # figure 3's second district (~20,000 houses)
    devices: int = 20
    per_device: int = 500
    repeats: int = 5
    area_houses: int = 2000
    big_records: int = 50_000
    points: int = 1_000_000
    browser_persons: int = 50_000
    browser_queue: int = 500


FULL = Sizes()
SMOKE = Sizes(scale=0.15, small_scale=0.1, devices=2, per_device=10, repeats=1, area_houses=20, big_records=300,
              points=1000, browser_persons=200, browser_queue=5)


@contextmanager
def databases(backends: list[str], tmp: Path) -> Iterator[dict[str, tuple[str, str]]]:
    """backend → (url of the district, url of the small district)."""
    out: dict[str, tuple[str, str]] = {}
    with ExitStack() as stack:
        if "sqlite" in backends:
            out["sqlite"] = (f"sqlite:///{tmp / 'district.sqlite3'}", f"sqlite:///{tmp / 'small.sqlite3'}")
        if "postgresql" in backends:
            from tests.pg import create_databases, pg_cluster

            url = stack.enter_context(pg_cluster())
            out["postgresql"] = (url, create_databases(url, ["small"])["small"])
        yield out


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "—"


def _origin(d: District) -> str:
    kept = "kept from an earlier run" if d.from_cache else f"generated in {d.build_seconds:.0f} s and kept"
    how = "copied" if d.backend == "sqlite" else "loaded by COPY"
    return f"{d.houses:,} houses, {d.cells:,} cells ({kept}; {how} in {d.load_seconds:.0f} s)"


FIGURES = frozenset("1234567")


def wanted(only: str | None) -> frozenset[str]:
    """The figures `--only 1,4` asks for (all: None). Figure 6's server side measures the
    device figure 2 sets up, so asking for 6 runs 2 as well; 5, 6 and 7 in the browser run
    together."""
    if not only:
        return FIGURES
    asked = frozenset(x.strip() for x in only.split(",") if x.strip())
    unknown = asked - FIGURES
    if unknown:
        raise SystemExit(f"--only: no figure {', '.join(sorted(unknown))} (figures are 1 to 7)")
    return asked | ({"2"} if "6" in asked else frozenset())


def backend_figures(report: Report, backend: str, urls: tuple[str, str], sizes: Sizes, steps: Steps,
                    cache: Path, scratch: Path, figures: frozenset[str] = FIGURES) -> District:
    def say(msg: str) -> None:
        steps.say(f"{backend}: {msg}", keep=True)

    with steps.step(f"{backend}: district (scale {sizes.scale:g})"):
        big = build(backend, urls[0], sizes.scale, scratch, lambda m: steps.say(f"{backend}: {m}"), cache)
    say(f"district: {_origin(big)}")
    small = served_small = None
    if "3" in figures:
        with steps.step(f"{backend}: small district (scale {sizes.small_scale:g})"):
            small = build(backend, urls[1], sizes.small_scale, scratch, lambda m: steps.say(f"{backend}: {m}"), cache)
        say(f"small district: {_origin(small)}")
        served_small = Served(small.url)
    served = Served(big.url)
    step = steps.step
    b = f"{backend} ({big.houses:,} houses)"
    try:
        cells = cells_by_code(big.engine)
        area, area_houses = pick_cells(cells, 0, sizes.area_houses)
        make_coordinator(big.engine, "bench_area", area)
        token = register(served.url, "bench_area")

        if "2" in figures:
            _pull_figures(report, backend, big, served, token, cells, area, area_houses, sizes, steps)
        if "3" in figures and small is not None and served_small is not None:
            _incremental_figure(report, backend, big, small, served, served_small, token, cells, area, sizes, steps)
        if "4" in figures:
            _coverage_figures(report, backend, big, sizes, steps)

        # 1. Push ingest: HTTP endpoint vs raw executemany of the same rows.
        if "1" in figures:
            with step(f"{backend}: figure 1 (push ingest, {sizes.repeats}× each side)"):
                pf = push.measure(big.engine, served.url, sizes.devices, sizes.per_device, sizes.repeats)
            report.add(Row("1", f"push ingest, {pf.mutations:,} mutations from {pf.devices} devices "
                           f"({pf.rows_written:,} rows written per run; outcomes over all runs {pf.statuses})", b,
                           show(pf.push, "mut/s", 0), show(pf.raw, "mut/s", 0), ratio(pf.push.median, pf.raw.median),
                           "≥ 0.25×", pf.push.median >= 0.25 * pf.raw.median))
    finally:
        served.close()
        if served_small is not None:
            served_small.close()
        if small is not None:
            small.engine.dispose()
    return big


def _pull_figures(report: Report, backend: str, big: District, served: Served, token: str,
                  cells: list[tuple[uuid.UUID, int]], area: list[uuid.UUID], area_houses: int, sizes: Sizes,
                  steps: Steps) -> None:
    """Figure 2 (first pull of an area and of a 50,000-record device) and 6's server side."""
    b = f"{backend} ({big.houses:,} houses)"
    # 2. First pull of one coordinator's area.
    steps.begin(f"{backend}: figure 2 (first pull, {sizes.repeats}× each side)")
    fp = pull.first_pull(big.engine, served.url, token, area, sizes.repeats)
    report.add(Row("2", f"first pull, area of {area_houses:,} houses ({fp.rows:,} rows, {fp.pages} requests, "
                   "protocol 2): time",
                   b, show(fp.server_s, "s"), show(fp.raw_s, "s"), ratio(fp.server_s.median, fp.raw_s.median),
                   "≤ 2×", fp.server_s.median <= 2 * fp.raw_s.median))
    report.add(Row("2", f"first pull, same area: bytes on the wire (gzip, headers included; {fp.pages} requests)", b,
                   f"{fp.server_bytes / 1024:,.0f} KiB",
                   f"{fp.raw_bytes / 1024:,.0f} KiB ({fp.raw_rows:,} rows)",
                   ratio(fp.server_bytes, fp.raw_bytes), "≤ 1.3×", fp.server_bytes <= 1.3 * fp.raw_bytes))
    per_house = fp.rows / max(area_houses, 1)
    big_cells, big_houses = pick_cells(cells, len(area), int(sizes.big_records / per_house) + 1)
    make_coordinator(big.engine, "bench_big", big_cells)
    fb = pull.first_pull(big.engine, served.url, register(served.url, "bench_big"), big_cells, sizes.repeats)
    report.add(Row("2", f"first pull, device of {fb.rows:,} records ({big_houses:,} houses, {fb.pages} requests): time",
                   b, show(fb.server_s, "s"), show(fb.raw_s, "s"), ratio(fb.server_s.median, fb.raw_s.median),
                   "≤ 2×", fb.server_s.median <= 2 * fb.raw_s.median))
    report.add(Row("2", f"first pull, same device: bytes on the wire (gzip, headers included; {fb.pages} requests)", b,
                   f"{fb.server_bytes / 1024:,.0f} KiB",
                   f"{fb.raw_bytes / 1024:,.0f} KiB", ratio(fb.server_bytes, fb.raw_bytes), "≤ 1.3×",
                   fb.server_bytes <= 1.3 * fb.raw_bytes))
    steps.end()

    # 6. Peak server memory during the 50,000-record pull (a fresh process).
    with steps.step(f"{backend}: figure 6 (server memory)"):
        mem = json.loads(subprocess.run([sys.executable, "-m", "bench.memory", big.url, "bench_big"], cwd=ROOT,
                                        capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
    report.add(Row("6", f"server peak RSS, first pull of {mem['rows']:,} records", backend,
                   f"{mem['peak_mib']:,.0f} MiB", f"{mem['before_mib']:,.0f} MiB before the pull",
                   f"+{mem['peak_mib'] - mem['before_mib']:,.0f} MiB", "—", None))


def _incremental_figure(report: Report, backend: str, big: District, small: District, served: Served,
                        served_small: Served, token: str, cells: list[tuple[uuid.UUID, int]],
                        area: list[uuid.UUID], sizes: Sizes, steps: Steps) -> None:
    """3. Incremental pull after 100 changes elsewhere, at two district sizes."""
    steps.begin(f"{backend}: figure 3 (incremental pull)")
    small_cells = cells_by_code(small.engine)
    small_area, _ = pick_cells(small_cells, 0, sizes.area_houses)
    make_coordinator(small.engine, "bench_area", small_area)
    small_token = register(served_small.url, "bench_area")
    sides = {}
    for name, d, srv, tok, cl, ar in (("big", big, served, token, cells, area),
                                      ("small", small, served_small, small_token, small_cells, small_area)):
        cursor = pull_round(srv.url, tok).cursor
        outside = [c for c, _ in cl[-max(3, len(cl) // 10):] if c not in ar]
        sides[name] = (d.engine, srv.url, tok, cursor, outside)
    inc = pull.incremental(sides, sizes.repeats)
    report.add(Row("3", f"incremental pull after 100 changes elsewhere ({inc.rows} rows for the device; "
                   f"{inc.requests} request, {inc.wire_bytes:,} bytes with headers)",
                   backend, f"{show(inc.big, 's', 3)} at {big.houses:,} houses",
                   f"{show(inc.small, 's', 3)} at {small.houses:,} houses",
                   ratio(inc.big.median, inc.small.median),
                   f"does not grow: ≤ 1.5× for {big.houses / max(small.houses, 1):.0f}× the houses",
                   inc.big.median <= 1.5 * inc.small.median))
    steps.end()


def _coverage_figures(report: Report, backend: str, big: District, sizes: Sizes, steps: Steps) -> None:
    """4. Coverage of the district against one raw GROUP BY; assignment of points."""
    b = f"{backend} ({big.houses:,} houses)"
    with steps.step(f"{backend}: figure 4 (coverage)"):
        cov = geo.coverage(big.engine, sizes.repeats)
    report.add(Row("4", f"coverage, {cov.cells:,} cells, every figure incl. judging each visit of the cycle "
                   f"(raw side: {', '.join(geo.SAME)}; figures agree: {'yes' if cov.agree else 'NO'})",
                   b, show(cov.app, "s"), show(cov.raw, "s"), ratio(cov.app.median, cov.raw.median),
                   "≤ 1.5×", cov.app.median <= 1.5 * cov.raw.median))
    report.add(Row("4", "coverage, the raw side's numbers only (judge_visits=False)", b, show(cov.same, "s"),
                   show(cov.raw, "s"), ratio(cov.same.median, cov.raw.median), "≤ 1.5×",
                   cov.same.median <= 1.5 * cov.raw.median))
    if backend == "sqlite":  # in memory: the backend plays no part
        with steps.step(f"house→cell assignment of {sizes.points:,} points"):
            pts = geo.assignment(big.engine, sizes.points, sizes.repeats)
        report.add(Row("4", f"house→cell assignment, {sizes.points:,} points over {big.cells:,} cells "
                       "(geo.assign.locate)", "(in memory)", show(Sample([v / 1000 for v in pts.values]),
                                                                       "k points/s", 0)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repeat (seconds)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--scale", type=float, help="district scale instead of 40 (while developing)")
    parser.add_argument("--repeats", type=int, help="runs per figure instead of 5")
    parser.add_argument("--rebuild", action="store_true",
                        help="drop the kept districts first: measure a first (uncached) run")
    parser.add_argument("--only", metavar="FIGURES",
                        help="some figures, e.g. 1,4 (while developing; 6 brings 2, the browser runs 5-7 together)")
    parser.add_argument("--out", help="the report (default: BENCHMARKS.md for a full run, "
                                      "instance/bench/dev-run.md for a development run)")
    args = parser.parse_args(argv)
    figures = wanted(args.only)
    sizes = SMOKE if args.smoke else FULL
    if args.scale:
        sizes = replace(sizes, scale=args.scale, small_scale=args.scale / 10)
    if args.repeats:
        sizes = replace(sizes, repeats=args.repeats)
    if args.rebuild:
        for kept in CACHE.glob("district-*"):
            kept.unlink()
    report = run(sizes, args.backends.split(","), not args.no_browser, " ".join(["make bench"] if not argv else
                                                                                  ["python -m bench.run", *argv]),
                 figures=figures)
    # A development run (--scale, --repeats, --smoke, --only) leaves the record alone.
    full = sizes == FULL and figures == FIGURES
    if full:
        report.history = history.record(report, sizes.scale)
    if FINDINGS.exists():  # profiling before/after, written by hand: kept with every run's table
        report.sections.append((FINDINGS_TITLE, FINDINGS.read_text(encoding="utf-8")))
    if full:
        report.save(LAST_RUN)
    out = Path(args.out) if args.out else ROOT / "BENCHMARKS.md" if full else CACHE / "dev-run.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report.markdown(), encoding="utf-8")
    print(report.markdown())
    return 0


def run(sizes: Sizes, backends: list[str], browser: bool, command: str, cache: Path = CACHE,
        figures: frozenset[str] = FIGURES) -> Report:
    from tests.pg import find_pg_bin

    steps = Steps()
    report = Report(describe(find_pg_bin()), command)
    with tempfile.TemporaryDirectory(prefix="gw-bench-") as tmp_name, databases(backends, Path(tmp_name)) as urls:
        for backend in backends:
            district = backend_figures(report, backend, urls[backend], sizes, steps, cache, Path(tmp_name), figures)
            if browser and backend == "sqlite" and figures & {"5", "6", "7"}:
                from bench import browser as field

                field.figures(report, district, sizes, steps)
            report.from_cache[backend] = district.from_cache
            district.engine.dispose()
    report.notes += steps.log
    report.steps = steps.durations
    report.seconds = steps.elapsed()
    return report


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main(sys.argv[1:] or None))

"""House → cell by point in polygon, checked against a brute-force Python loop.

Tie rule under test (geo/assign.py): a point on a shared edge or vertex stays in its
current cell when that cell touches it, else goes to the touching cell with the smallest
code; outside every cell, or without a location, a house keeps its cell; `cell_manual`
houses always keep theirs.
"""
from __future__ import annotations

import random

import numpy as np
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.assign import assign_houses, locate
from tests import factories as f
from webapp.models import Cell, House, HouseEvent
from webapp.registry.demo import generate

# A 4 × 3 grid of cells with dyadic coordinates (exact in binary floating point), so that
# points generated on shared edges and vertices really lie on them.
X0, Y0, STEP = 121.25, 31.0, 0.0078125  # 2⁻⁷ degrees
COLS, ROWS = 4, 3


def cell_ring(i: int, j: int) -> list[list[float]]:
    x, y = X0 + i * STEP, Y0 + j * STEP
    return [[x, y], [x + STEP, y], [x + STEP, y + STEP], [x, y + STEP], [x, y]]


def random_points(rng: random.Random, n: int) -> list[tuple[float, float]]:
    pts = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.25:  # a grid vertex (shared by up to four cells)
            pts.append((X0 + rng.randint(0, COLS) * STEP, Y0 + rng.randint(0, ROWS) * STEP))
        elif kind < 0.5:  # on a grid line, between vertices
            if rng.random() < 0.5:
                pts.append((X0 + rng.randint(0, COLS) * STEP, Y0 + rng.randint(0, ROWS * 8) * STEP / 8))
            else:
                pts.append((X0 + rng.randint(0, COLS * 8) * STEP / 8, Y0 + rng.randint(0, ROWS) * STEP))
        else:  # anywhere, a little beyond the grid too
            pts.append((X0 + rng.uniform(-0.1, COLS + 0.1) * STEP, Y0 + rng.uniform(-0.1, ROWS + 0.1) * STEP))
    return pts


def brute_force(polys: list[shapely.Polygon], point: tuple[float, float], current: int) -> int:
    """The rule, one cell at a time: the closed polygons containing the point."""
    touching = [k for k, poly in enumerate(polys) if poly.covers(shapely.Point(point))]
    if not touching:
        return -1
    return current if current in touching else min(touching)


def test_locate_matches_brute_force_without_a_database() -> None:
    rng = random.Random(7)
    polys = [shapely.Polygon(cell_ring(i, j)) for i in range(COLS) for j in range(ROWS)]
    pts = random_points(rng, 2000)
    current = np.array([rng.randrange(-1, len(polys)) for _ in pts])
    got = locate(polys, np.array([p[0] for p in pts]), np.array([p[1] for p in pts]), current)
    expected = [brute_force(polys, p, int(c)) for p, c in zip(pts, current, strict=True)]
    assert got.tolist() == expected
    on_edges = sum(1 for p in pts if sum(poly.covers(shapely.Point(p)) for poly in polys) > 1)
    assert on_edges > 300  # the tie rule really was exercised


def _grid_cells(s: Session) -> dict[str, Cell]:
    committees = [f.committee(s), f.committee(s)]
    cells = {}
    for i in range(COLS):
        for j in range(ROWS):
            code = f"G{i}{j}"
            cells[code] = f.cell(s, committees[i // 2], code=code,
                                 boundary={"type": "Polygon", "coordinates": [cell_ring(i, j)]})
    return cells


def test_assign_houses_matches_brute_force(db_session: Session) -> None:
    s = db_session
    rng = random.Random(11)
    cells = _grid_cells(s)
    codes = sorted(cells)
    polys = [shapely.Polygon(cells[c].boundary["coordinates"][0]) for c in codes]
    houses: list[House] = []
    for lon, lat in random_points(rng, 300):
        start = rng.choice([None, *codes])
        houses.append(f.house(s, cells[start] if start else None, lon=lon, lat=lat))
    nowhere = f.house(s, cells["G00"], lon=None, lat=None)
    manual = f.house(s, cells["G00"], lon=X0 + 3.5 * STEP, lat=Y0 + 0.5 * STEP, cell_manual=True)
    s.commit()
    before = {h.id: (h.cell_id, h.version) for h in houses + [nowhere, manual]}
    index_of = {cells[c].id: k for k, c in enumerate(codes)}

    report = assign_houses(s)
    s.commit()

    moved = {m.house_id for m in report.moved}
    for h in houses:
        s.refresh(h)
        old_cell, old_version = before[h.id]
        k = brute_force(polys, (h.lon, h.lat), index_of.get(old_cell, -1))
        expected = cells[codes[k]].id if k >= 0 else old_cell  # outside: keeps its cell
        assert h.cell_id == expected, (h.lon, h.lat)
        assert h.version == old_version + (1 if h.id in moved else 0)
        assert (h.id in moved) == (expected != old_cell)
    assert {u.house_id for u in report.unplaced if u.reason == "no_location"} == {nowhere.id}
    outside = {h.id for h in houses if all(not p.covers(shapely.Point(h.lon, h.lat)) for p in polys)}
    assert {u.house_id for u in report.unplaced if u.reason == "outside"} == {
        h for h in outside if before[h][0] is not None}  # outside and cell-less: nothing to say
    [kept] = report.kept_manual
    assert (kept.house_id, kept.cell, kept.by_location) == (manual.id, "G00", "G30")
    s.refresh(manual)
    assert manual.cell_id == cells["G00"].id and manual.version == before[manual.id][1]
    events = s.scalars(select(HouseEvent).where(HouseEvent.kind == "cell_changed")).all()
    assert {e.house_id for e in events} == moved and len(events) == len(moved) > 50
    e = next(e for e in events if e.house_id == report.moved[0].house_id)
    assert e.detail["to_cell"] == report.moved[0].to_cell and e.version == 1
    # Running it again changes nothing: the tie rule keeps edge houses where they are.
    assert assign_houses(s).moved == []


def test_outside_and_cell_less_house_is_unplaced(db_session: Session) -> None:
    s = db_session
    _grid_cells(s)
    far = f.house(s, None, lon=120.0, lat=30.0)
    report = assign_houses(s, house_ids=[far.id])
    assert report.checked == 1 and report.moved == []
    # It has no cell and lies in none: nothing moves, so it is not listed as unplaced either.
    assert s.get(House, far.id).cell_id is None  # type: ignore[union-attr]


def test_boundary_change_moves_houses_with_a_report(db_session: Session) -> None:
    s = db_session
    cells = _grid_cells(s)
    inside_g10 = f.house(s, cells["G00"], lon=X0 + 1.25 * STEP, lat=Y0 + 0.5 * STEP)
    s.commit()
    report = assign_houses(s, dry_run=True)
    assert [(m.house_id, m.from_cell, m.to_cell) for m in report.moved] == [(inside_g10.id, "G00", "G10")]
    s.rollback()
    assert s.get(House, inside_g10.id).cell_id == cells["G00"].id  # type: ignore[union-attr]
    assert s.scalar(select(func.count()).select_from(HouseEvent)) == 0
    report = assign_houses(s, house_ids=[inside_g10.id], by_user_id=None)
    s.commit()
    assert [m.to_cell for m in report.moved] == ["G10"]
    house = s.get(House, inside_g10.id)
    assert house is not None and house.cell_id == cells["G10"].id and house.version == 2


def test_demo_data_is_already_in_place(db_session: Session) -> None:
    s = db_session
    generate(s, scale=0.2, password_hash="x")
    s.commit()
    report = assign_houses(s)
    houses = s.scalar(select(func.count()).select_from(House).where(House.deleted_at.is_(None)))
    assert report.checked == houses > 1000
    assert report.moved == [] and report.kept_manual == [] and report.unplaced == []



def test_cell_at_answers_as_assign_would_for_one_point(db_session: Session) -> None:
    # The console's check of typed coordinates (webapp/console/views.py) asks this.
    from geo.assign import cell_at

    s = db_session
    cells = _grid_cells(s)
    edge = (X0 + STEP, Y0 + STEP / 2)  # on the edge G00 | G10
    assert cell_at(s, X0 + STEP / 2, Y0 + STEP / 2) == cells["G00"].id
    assert cell_at(s, *edge, current=cells["G10"].id) == cells["G10"].id  # stays where it is
    assert cell_at(s, *edge, current=cells["G21"].id) == cells["G00"].id  # else the smallest code
    assert cell_at(s, 120.0, 30.0, current=cells["G00"].id) is None  # outside every cell

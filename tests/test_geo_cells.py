"""Cell import/export: every kind of error is found, located, and nothing is half-imported."""
from __future__ import annotations

import json
from typing import Any

import pytest
import shapely
from shapely.testing import assert_geometries_equal
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.cells import export_cells, import_cells
from geo.settings import GeoSettings
from geo.shapes import polygon
from tests import factories as f
from webapp.models import Cell, Committee
from webapp.registry.demo import generate

S = GeoSettings(cell_max_area_km2=5, cell_overlap_tolerance_m2=1)
D = 0.002  # cell side in degrees (~190 × 210 m)


def square(x: float, y: float, size: float = D) -> list[list[float]]:
    return [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]


def feature(code: str, ring: Any, committee: str = "C1", **props: Any) -> dict[str, Any]:
    geometry = ring if ring is None or isinstance(ring, dict) else {"type": "Polygon", "coordinates": [ring]}
    return {"type": "Feature", "geometry": geometry,
            "properties": {"code": code, "name": f"网格{code}", "committee_code": committee,
                           "committee_name": f"居委{committee}", **props}}


def fc(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def grid(n: int, m: int, x0: float = 121.2, y0: float = 31.0, committee: str = "C1",
         skip: tuple[tuple[int, int], ...] = ()) -> list[dict[str, Any]]:
    return [feature(f"{committee}-{i}{j}", square(x0 + i * D, y0 + j * D), committee)
            for i in range(n) for j in range(m) if (i, j) not in skip]


def count(s: Session, model: Any) -> int:
    return s.scalar(select(func.count()).select_from(model)) or 0


def test_import_creates_committees_and_cells(db_session: Session) -> None:
    s = db_session
    lead, coord = f.user(s, "wg", "grid_lead"), f.user(s, "xg", "coordinator")
    data = fc(*grid(2, 1), feature("D-1", square(121.2 + 2 * D, 31.0), "C2", grid_lead="wg", coordinators=["xg"]))
    report = import_cells(s, json.dumps(data), settings=S)
    assert report.ok and report.written
    assert sorted(report.created) == ["C1-00", "C1-10", "D-1"]
    assert sorted(report.committees_created) == ["C1", "C2"]
    assert sorted(report.boundaries_changed) == ["C1-00", "C1-10", "D-1"]
    cell = s.scalars(select(Cell).where(Cell.code == "D-1")).one()
    assert cell.committee.code == "C2" and cell.committee.name == "居委C2"
    assert cell.grid_lead_id == lead.id and [u.id for u in cell.coordinators] == [coord.id]
    assert cell.version == 1
    assert_geometries_equal(polygon(cell.boundary), shapely.Polygon(square(121.2 + 2 * D, 31.0)))
    assert report.to_dict()["created"] == report.created


def test_reimport_updates_as_new_versions_and_leaves_the_rest(db_session: Session) -> None:
    s = db_session
    import_cells(s, fc(*grid(2, 1)), settings=S)
    s.commit()
    changed = grid(2, 1)
    changed[0]["properties"]["name"] = "新名字"
    for feat in changed:
        feat["properties"]["committee_name"] = "改名居委"
    report = import_cells(s, fc(*changed), settings=S)
    assert report.updated == ["C1-00"] and report.unchanged == ["C1-10"]
    assert report.committees_updated == ["C1"] and report.boundaries_changed == []
    s.commit()
    cells = {c.code: c for c in s.scalars(select(Cell))}
    assert cells["C1-00"].version == 2 and cells["C1-00"].name == "新名字"
    assert cells["C1-10"].version == 1
    assert s.scalars(select(Committee)).one().name == "改名居委"


def test_dry_run_writes_nothing_but_says_what_would_change(db_session: Session) -> None:
    report = import_cells(db_session, fc(*grid(2, 2)), dry_run=True, settings=S)
    assert report.ok and not report.written and len(report.created) == 4
    assert count(db_session, Cell) == count(db_session, Committee) == 0


def bowtie() -> list[list[float]]:
    x, y = 121.2, 31.0
    return [[x, y], [x + D, y + D], [x + D, y], [x, y + D], [x, y]]


CASES: dict[str, tuple[Any, dict[str, Any]]] = {
    # name: (collection, expected fields of the first error)
    "invalid polygon": (fc(feature("A", bowtie())),
                        {"kind": "invalid_polygon", "feature_index": 0, "cell_code": "A",
                         "point": (121.2 + D / 2, 31.0 + D / 2)}),
    "point geometry": (fc(feature("A", {"type": "Point", "coordinates": [121.2, 31.0]})),
                       {"kind": "not_polygon", "detail": "Point"}),
    "multipolygon": (fc(feature("A", {"type": "MultiPolygon", "coordinates": [[square(121.2, 31.0)]]})),
                     {"kind": "not_polygon", "detail": "MultiPolygon"}),
    "latitude out of range": (fc(*grid(1, 1), feature("B", [[121.2, 95.0], [121.3, 95.0], [121.3, 96.0],
                                                              [121.2, 95.0]])),
                              {"kind": "out_of_range", "feature_index": 1, "cell_code": "B", "point": (121.2, 95.0)}),
    "lat/lon swapped": (fc(feature("A", [[31.0, 121.2], [31.0, 121.3], [31.1, 121.3], [31.0, 121.2]])),
                        {"kind": "out_of_range"}),
    "ring not closed": (fc(feature("A", square(121.2, 31.0)[:-1])), {"kind": "ring_not_closed"}),
    "too few positions": (fc(feature("A", [[121.2, 31.0], [121.3, 31.0], [121.2, 31.0]])),
                          {"kind": "bad_coordinates"}),
    "huge polygon": (fc(feature("A", square(121.0, 31.0, size=0.1)), *grid(2, 2)),
                     {"kind": "too_large", "cell_code": "A"}),
    "duplicate code": (fc(feature("A", square(121.2, 31.0)), feature("A", square(121.2 + D, 31.0))),
                       {"kind": "duplicate_code", "feature_index": 1, "detail": "1"}),
    "overlap": (fc(feature("A", square(121.2, 31.0)), feature("B", square(121.2 + D / 2, 31.0 + D / 2))),
                {"kind": "overlap", "cell_code": "A", "detail": "B",
                 "bbox": (121.2 + D / 2, 31.0 + D / 2, 121.2 + D, 31.0 + D)}),
    "gap inside a committee": (fc(*grid(3, 3, skip=((1, 1),))),
                               {"kind": "committee_gap", "detail": "C1", "point": (121.2 + 1.5 * D, 31.0 + 1.5 * D)}),
    "missing code": (fc({"type": "Feature", "geometry": None, "properties": {"name": "x", "committee_code": "C1"}}),
                     {"kind": "missing_property", "detail": "code"}),
    "unknown user": (fc(feature("A", square(121.2, 31.0), grid_lead="nobody")),
                     {"kind": "unknown_user", "detail": "nobody"}),
    "new committee without name": (fc({"type": "Feature", "geometry": square(121.2, 31.0) and None,
                                       "properties": {"code": "A", "name": "a", "committee_code": "NEW"}}),
                                   {"kind": "committee_name_required", "detail": "NEW"}),
    "committee names disagree": (fc(feature("A", square(121.2, 31.0)),
                                    feature("B", square(121.2 + D, 31.0), committee_name="别的名字")),
                                 {"kind": "committee_name_conflict", "feature_index": 1}),
    "not a feature collection": ({"type": "Feature"}, {"kind": "not_feature_collection"}),
    "old crs": ({**fc(*grid(1, 1)), "crs": {"type": "name", "properties": {"name": "EPSG:3857"}}},
                {"kind": "crs_not_wgs84"}),
    # Refused when read, not a crash: properties that are not an object, and text no database
    # keeps (a NUL failed PostgreSQL's query; a lone surrogate, from "\ud800", cannot be encoded).
    "crs properties not an object": ({**fc(*grid(1, 1)), "crs": {"type": "name", "properties": 5}},
                                     {"kind": "crs_not_wgs84"}),
    "NUL in a cell code": (fc(feature("A\x00", square(121.2, 31.0))), {"kind": "bad_property", "feature_index": 0}),
    "lone surrogate in a name": (fc({**feature("A", square(121.2, 31.0)), "properties": {
        "code": "A", "name": "网格\ud800", "committee_code": "C1", "committee_name": "居委"}}),
        {"kind": "bad_property", "cell_code": "A"}),
    "NUL in a committee name": (fc(feature("A", square(121.2, 31.0), committee_name="居委\x00")),
                                {"kind": "bad_property", "cell_code": "A"}),
    "NUL in the grid lead": (fc(feature("A", square(121.2, 31.0), grid_lead="xg\x00")),
                             {"kind": "bad_property", "detail": "grid_lead: a username"}),
    "surrogate in a coordinator": (fc(feature("A", square(121.2, 31.0), coordinators=["xg", "\udfff"])),
                                   {"kind": "bad_property", "detail": "coordinators: a list of usernames"}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_errors_are_located_and_nothing_is_written(db_session: Session, case: str) -> None:
    s = db_session
    f.user(s, "xg", "coordinator")
    data, expected = CASES[case]
    # A good cell first: it must not be written either (nothing half-imported).
    features = [feature("GOOD", square(121.5, 31.5), "CX"), *data.get("features", [])]
    collection = {**data, "features": features} if data.get("type") == "FeatureCollection" else data
    report = import_cells(s, json.dumps(collection), settings=S)
    assert not report.ok and not report.written
    errors = report.errors
    got = next(i for i in errors if i.kind == expected["kind"])
    for key, value in expected.items():
        actual = getattr(got, key)
        if key == "feature_index":
            value += 1  # the GOOD feature comes first
        if isinstance(value, tuple):
            assert actual == pytest.approx(value, abs=1e-6), key
        else:
            assert actual == value, key
    assert got.message_zh and got.message_en
    if case == "huge polygon":  # it covers the 2 × 2 grid, but only its size is reported
        assert [i.kind for i in errors] == ["too_large"]
    assert count(s, Cell) == count(s, Committee) == 0


def test_not_json() -> None:
    report = import_cells(None, b"{not json", settings=S)  # type: ignore[arg-type]
    assert [i.kind for i in report.errors] == ["not_json"]


def test_overlap_reports_area_and_a_point_inside_it(db_session: Session) -> None:
    a, b = square(121.2, 31.0), square(121.2 + D / 2, 31.0)  # half of A overlaps
    report = import_cells(db_session, fc(feature("A", a), feature("B", b)), settings=S)
    [issue] = report.errors
    half = shapely.Polygon(a).intersection(shapely.Polygon(b))
    assert shapely.Polygon(half).contains(shapely.Point(issue.point))
    # ~95 m × 222 m ≈ 21,000 m² at this latitude.
    assert 20_000 < (issue.area_m2 or 0) < 22_500


def test_touching_cells_and_slivers_below_tolerance_pass(db_session: Session) -> None:
    a = square(121.2, 31.0)
    b = square(121.2 + D - 1e-8, 31.0)  # overlaps by ~1 mm: a rounding sliver
    report = import_cells(db_session, fc(feature("A", a), feature("B", b), *grid(1, 1, y0=31.0 + D)),
                          settings=S)
    assert report.ok, [i.to_dict() for i in report.issues]


def test_overlap_with_a_stored_cell_not_in_the_file(db_session: Session) -> None:
    s = db_session
    import_cells(s, fc(feature("OLD", square(121.2, 31.0))), settings=S)
    report = import_cells(s, fc(feature("NEW", square(121.2 + D / 2, 31.0))), settings=S)
    [issue] = report.errors
    assert (issue.kind, issue.feature_index, issue.cell_code, issue.detail) == ("overlap", 0, "NEW", "OLD")
    assert s.scalars(select(Cell.code)).all() == ["OLD"]


def test_gap_filled_by_another_committee_is_not_a_gap(db_session: Session) -> None:
    # C1 surrounds a hole that C2's cell fills exactly: an enclave, not a gap.
    ring = grid(3, 3, skip=((1, 1),))
    enclave = feature("C2-11", square(121.2 + D, 31.0 + D), "C2")
    assert import_cells(db_session, fc(*ring, enclave), between_committees=True, settings=S).ok


def test_gap_between_committees_only_when_asked(db_session: Session) -> None:
    # Two committees side by side, a notch of land between them that neither covers:
    # C1 is columns 0-1, C2 columns 3-4; column 2 is covered except its middle row.
    left = grid(2, 3)
    right = grid(2, 3, x0=121.2 + 3 * D, committee="C2")
    bridge = [feature("C1-2a", square(121.2 + 2 * D, 31.0)), feature("C2-2c", square(121.2 + 2 * D, 31.0 + 2 * D), "C2")]
    data = fc(*left, *right, *bridge)
    assert import_cells(db_session, data, dry_run=True, settings=S).ok
    report = import_cells(db_session, data, dry_run=True, between_committees=True, settings=S)
    [issue] = report.errors
    assert issue.kind == "boundary_gap"
    assert issue.point == pytest.approx((121.2 + 2.5 * D, 31.0 + 1.5 * D), abs=1e-6)
    assert issue.area_m2 and issue.area_m2 > 1


def test_split_committee_is_a_warning(db_session: Session) -> None:
    data = fc(feature("A", square(121.2, 31.0)), feature("B", square(121.3, 31.0)))
    report = import_cells(db_session, data, settings=S)
    assert report.ok and [w.kind for w in report.warnings] == ["committee_split"]


def test_wrong_role(db_session: Session) -> None:
    f.user(db_session, "xg", "coordinator")
    report = import_cells(db_session, fc(feature("A", square(121.2, 31.0), grid_lead="xg")), settings=S)
    assert [i.kind for i in report.errors] == ["wrong_role"]


def test_demo_cells_round_trip(db_session: Session) -> None:
    s = db_session
    generate(s, scale=0.2, password_hash="x")
    s.commit()
    exported = export_cells(s)
    assert len(exported["features"]) == count(s, Cell) and exported["features"][0]["properties"]["grid_lead"]
    text = json.dumps(exported, ensure_ascii=False)
    report = import_cells(s, text, between_committees=True, settings=S)
    assert report.ok and not report.issues, [i.to_dict() for i in report.issues]
    assert report.created == report.updated == [] and len(report.unchanged) == len(exported["features"])
    s.commit()
    assert set(s.scalars(select(Cell.version))) == {1}
    again = export_cells(s)
    assert again == json.loads(text)
    stored = {c.code: polygon(c.boundary) for c in s.scalars(select(Cell))}
    for feat in again["features"]:
        assert_geometries_equal(shapely.from_geojson(json.dumps(feat["geometry"])), stored[feat["id"]])


def test_gap_found_even_when_neighbours_miss_each_other_by_a_centimetre(db_session: Session) -> None:
    # Hand-drawn cells rarely meet exactly: a 1 cm slit must not let the hole "leak out".
    ring = grid(3, 3, skip=((1, 1),))
    ring[0]["geometry"]["coordinates"] = [square(121.2 - 1e-7, 31.0)]  # C1-00 moved 1 cm west
    report = import_cells(db_session, fc(*ring), settings=S)
    assert [i.kind for i in report.errors] == ["committee_gap"]
    assert report.errors[0].area_m2 == pytest.approx(D * D * 111_195 ** 2 * 0.857, rel=0.01)

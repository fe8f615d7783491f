"""Checks across cells: overlaps between cells and gaps inside (and between) committees.

Everything is measured in local metres, so tolerances are in m². Overlap candidates come
from one STRtree query of all cells against all cells (predicate "intersects"); only those
pairs are intersected, in one vectorised call.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from geo.issues import Issue
from geo.shapes import MetricFrame


@dataclass(frozen=True)
class Placed:
    """A cell as it will be after the import: from the file (index set) or already stored."""

    code: str
    committee_code: str
    geom: shapely.Polygon  # lon/lat
    feature_index: int | None


def overlaps(cells: Sequence[Placed], frame: MetricFrame, tolerance_m2: float) -> list[Issue]:
    if len(cells) < 2:
        return []
    geoms = _metric(cells, frame)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right  # each unordered pair once, never a cell with itself
    left, right = left[keep], right[keep]
    if not len(left):
        return []
    shared = shapely.intersection(geoms[left], geoms[right])
    areas = shapely.area(shared)
    issues = []
    for i, j, geom, area in zip(left, right, shared, areas, strict=True):
        if area <= tolerance_m2:
            continue  # touching along an edge (area 0) or a rounding sliver
        a, b = cells[i], cells[j]
        if a.feature_index is None and b.feature_index is not None:
            a, b = b, a  # name the feature of the file first: that is what gets fixed
        issues.append(Issue(
            "overlap", a.feature_index, a.code, detail=b.code,
            point=frame.point_lonlat(geom), bbox=frame.bbox_lonlat(geom), area_m2=round(float(area), 1),
        ))
    return issues


# Coordinates are snapped to this grid (metres) before any overlay: neighbours drawn from
# the same vertices then share them exactly, whatever the float rounding.
GRID_M = 0.001


def _metric(cells: Sequence[Placed], frame: MetricFrame) -> np.ndarray:
    geoms = frame.to_metres(np.array([c.geom for c in cells], dtype=object))
    return shapely.set_precision(geoms, GRID_M)


def _closed(area: shapely.Geometry, tolerance_m2: float) -> shapely.Geometry:
    """The area with slits narrower than ~√tolerance closed (morphological closing).

    Hand-drawn neighbours rarely meet exactly; the thin slivers between them would connect
    a real gap to the outside, and it would no longer be a hole.
    """
    eps = max(GRID_M, min(0.5, tolerance_m2 ** 0.5 / 2))
    grown = shapely.buffer(area, eps, join_style="mitre", mitre_limit=10)
    return shapely.buffer(grown, -eps, join_style="mitre", mitre_limit=10)


def _holes(area: shapely.Geometry) -> list[shapely.Polygon]:
    parts = shapely.get_parts(area)
    return [shapely.Polygon(ring) for part in parts if isinstance(part, shapely.Polygon)
            for ring in part.interiors]


def gaps(cells: Sequence[Placed], frame: MetricFrame, tolerance_m2: float, *,
         between_committees: bool = False) -> list[Issue]:
    """Holes in each committee's union of cells that no cell (of any committee) fills.

    With `between_committees`, also holes in the union of all cells that lie outside every
    committee's own holes: land enclosed by committees that none of them covers.
    """
    if not cells:
        return []
    geoms = _metric(cells, frame)
    everything = shapely.union_all(geoms)
    by_committee: dict[str, list[int]] = defaultdict(list)
    for k, c in enumerate(cells):
        by_committee[c.committee_code].append(k)
    issues: list[Issue] = []
    committee_holes = []
    for code in sorted(by_committee):
        area = _closed(shapely.union_all(geoms[by_committee[code]]), tolerance_m2)
        if len(shapely.get_parts(area)) > 1:
            issues.append(Issue("committee_split", detail=code, point=frame.point_lonlat(area),
                                bbox=frame.bbox_lonlat(area)))
        for hole in _holes(area):
            committee_holes.append(hole)
            uncovered = shapely.difference(hole, everything)
            if shapely.area(uncovered) > tolerance_m2:
                issues.append(_gap("committee_gap", code, uncovered, frame))
    if between_committees:
        inside = shapely.union_all(committee_holes) if committee_holes else shapely.Polygon()
        for hole in _holes(_closed(everything, tolerance_m2)):
            rest = shapely.difference(hole, inside)
            if shapely.area(rest) > tolerance_m2:
                issues.append(_gap("boundary_gap", "", rest, frame))
    return issues


def _gap(kind: str, committee: str, geom: shapely.Geometry, frame: MetricFrame) -> Issue:
    return Issue(kind, detail=committee, point=frame.point_lonlat(geom), bbox=frame.bbox_lonlat(geom),
                 area_m2=round(float(shapely.area(geom)), 1))

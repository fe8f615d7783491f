"""Geometry of the area: a grid of jittered convex quadrilaterals that tile it exactly."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from webapp.registry.demo.reference import BLOCK, CELL_SIZE, CENTRE, JITTER

Point = tuple[float, float]


@dataclass(frozen=True)
class _Quad:
    """A convex cell polygon: south-west, south-east, north-east, north-west corners."""

    sw: Point
    se: Point
    ne: Point
    nw: Point

    def point(self, u: float, v: float) -> Point:
        """Bilinear map of (u, v) in (0, 1)²: strictly inside the quad for a convex quad."""
        a, b, c, d = (1 - u) * (1 - v), u * (1 - v), u * v, (1 - u) * v
        lon = a * self.sw[0] + b * self.se[0] + c * self.ne[0] + d * self.nw[0]
        lat = a * self.sw[1] + b * self.se[1] + c * self.ne[1] + d * self.nw[1]
        return round(lon, 7), round(lat, 7)

    def geojson(self) -> dict[str, Any]:
        ring = [self.sw, self.se, self.ne, self.nw, self.sw]
        return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


@dataclass(frozen=True)
class _Layout:
    blocks_x: int
    blocks_y: int

    @classmethod
    def for_scale(cls, scale: float) -> _Layout:
        # Committee blocks are 4×2 cells, so twice as many block rows keep the area square.
        n = max(2, round(8 * scale))
        bx = max(1, round(math.sqrt(n / 2)))
        return cls(bx, max(1, math.ceil(n / bx)))

    @property
    def cols(self) -> int:
        return self.blocks_x * BLOCK[0]

    @property
    def rows(self) -> int:
        return self.blocks_y * BLOCK[1]

    def vertices(self, rng: random.Random) -> list[list[Point]]:
        """Grid vertices [col][row]; internal ones jittered, so neighbours share them exactly."""
        dx, dy = CELL_SIZE
        lon0, lat0 = CENTRE[0] - self.cols * dx / 2, CENTRE[1] - self.rows * dy / 2
        grid: list[list[Point]] = []
        for i in range(self.cols + 1):
            column = []
            for j in range(self.rows + 1):
                jx = rng.uniform(-JITTER, JITTER) if 0 < i < self.cols else 0.0
                jy = rng.uniform(-JITTER, JITTER) if 0 < j < self.rows else 0.0
                column.append((round(lon0 + (i + jx) * dx, 7), round(lat0 + (j + jy) * dy, 7)))
            grid.append(column)
        return grid

"""The area: committees and the grid cells that tile it, each with its two roads."""
from __future__ import annotations

from webapp.models import Cell, Committee
from webapp.registry.demo.grid import _Quad
from webapp.registry.demo.records import _Cell
from webapp.registry.demo.reference import BLOCK, SONGJIANG
from webapp.registry.demo.staff import _Staff
from webapp.registry.demo.vocabulary import (
    _COMMITTEE_FIRST,
    _COMMITTEE_PREFIX,
    _COMMITTEE_SUFFIX,
    _ROAD_CHARS,
    _ROADS_EW,
    _ROADS_NS,
)
from webapp.registry.demo.writer import _synced


class _Areas(_Staff):
    # -- committees, users, cells --

    def areas(self) -> None:
        lay = self.layout
        n_comm = lay.blocks_x * lay.blocks_y
        self.out.begin("areas", n_comm)
        names = self.committee_names(n_comm)
        for k, name in enumerate(names):
            cid = self.new_id()
            code = f"{SONGJIANG}004{k + 1:03d}"
            self.committees.append((cid, name))
            self.out.add(Committee, _synced(cid, code=code, name=f"{name}居委会"))
        self.out.flush()
        leads = self.users(names)
        self.grid_cells(leads)
        self.out.done = n_comm
        self.out.flush()

    def committee_names(self, n: int) -> list[str]:
        combos = [p + s for p in _COMMITTEE_PREFIX for s in _COMMITTEE_SUFFIX]
        combos = [c for c in combos if c not in _COMMITTEE_FIRST]
        self.rng.shuffle(combos)
        names = list(_COMMITTEE_FIRST) + combos
        # Past the pool (scale > ~40), number the extras: 蓝天花园 → 蓝天花园2.
        while len(names) < n:
            names += [f"{c}{len(names) // len(combos) + 1}" for c in combos]
        return names[:n]

    def grid_cells(self, leads: list[int]) -> None:
        lay = self.layout
        grid = lay.vertices(self.rng)
        ns, ew = self.road_names(lay.cols, lay.rows)
        for k in range(len(self.committees)):
            by, bx = divmod(k, lay.blocks_x)
            for n in range(BLOCK[0] * BLOCK[1]):
                b, a = divmod(n, BLOCK[0])
                col, row = bx * BLOCK[0] + a, by * BLOCK[1] + b
                quad = _Quad(grid[col][row], grid[col + 1][row], grid[col + 1][row + 1], grid[col][row + 1])
                self.add_cell(k, n, quad, (ns[col], ew[row]), leads[k])
        self.coordinators()

    def road_names(self, cols: int, rows: int) -> tuple[list[str], list[str]]:
        """A north-south road per cell column and an east-west road per cell row, all distinct."""
        taken = set(_ROADS_NS) | set(_ROADS_EW)
        need = max(0, cols - len(_ROADS_NS)) + max(0, rows - len(_ROADS_EW))
        extra: list[str] = []
        while len(extra) < need:
            name = self.rng.choice(_ROAD_CHARS) + self.rng.choice(_ROAD_CHARS) + self.rng.choice(("路", "路", "街"))
            if name[0] != name[1] and name not in taken:
                taken.add(name)
                extra.append(name)
        pool = iter(extra)
        ns = [_ROADS_NS[i] if i < len(_ROADS_NS) else next(pool) for i in range(cols)]
        ew = [_ROADS_EW[i] if i < len(_ROADS_EW) else next(pool) for i in range(rows)]
        return ns, ew

    def add_cell(self, k: int, n: int, quad: _Quad, roads: tuple[str, str], lead: int) -> None:
        cid = self.new_id()
        code = f"{SONGJIANG}004{k + 1:03d}-{n + 1:02d}"
        name = f"{self.committees[k][1]}第{n + 1}网格"
        self.cells.append(_Cell(len(self.cells), cid, code, k, quad, roads))
        self.out.add(Cell, _synced(
            cid, code=code, name=name, committee_id=self.committees[k][0],
            boundary=quad.geojson(), grid_lead_id=lead,
        ))

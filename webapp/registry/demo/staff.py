"""Users: the centre, police, committee staff, grid leads and cell coordinators."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from webapp.models import User, cell_coordinator
from webapp.models.enums import Role
from webapp.registry.demo.reference import BLOCK, REFERENCE_TIME
from webapp.registry.demo.state import _State
from webapp.registry.demo.vocabulary import _SAMPLE_LOGINS


class _Staff(_State):
    def users(self, names: Sequence[str]) -> list[int]:
        """Centre, police, one committee user and one grid lead per committee; returns lead ids."""
        per = BLOCK[0] * BLOCK[1]
        n_cells = len(names) * per
        centre = self.user("centre", Role.CENTRE, f"{self.chinese_name('F', 1980)}（人口中心）",
                           f"全街道：{len(names)} 个居委会、{n_cells} 个网格")
        police = self.user("police", Role.POLICE, f"{self.chinese_name('M', 1985)}（方松派出所）",
                           "全街道，只读")
        staff: list[User] = [centre, police]
        leads: list[User] = []
        for k, (cid, _) in enumerate(self.committees):
            comm = f"{names[k]}居委会"
            staff.append(self.user(f"jw{k + 1:02d}", Role.COMMITTEE, f"{self.chinese_name('F', 1975)}（{comm}）",
                                   f"{comm}：{per} 个网格", committee_id=cid))
            leads.append(self.user(f"wg{k + 1:02d}", Role.GRID_LEAD, self.chinese_name("M", 1970),
                                   f"{comm}的 {per} 个网格（网格长）", committee_id=cid))
        self.session.add_all(staff + leads)
        self.session.flush()
        self.user_count += len(staff) + len(leads)
        return [u.id for u in leads]

    def user(self, username: str, role: Role, display: str, sees: str, **kw: Any) -> User:
        if username in _SAMPLE_LOGINS:
            self.logins.append((username, role.value, display, sees))
        return User(
            username=username, display_name=display, password_hash=self.password_hash,
            role=role.value, phone=self.phone(), created_at=REFERENCE_TIME, **kw,
        )

    def coordinators(self) -> None:
        """One coordinator per two neighbouring cells (xg01, xg02, …)."""
        staff = []
        pairs = [self.cells[i:i + 2] for i in range(0, len(self.cells), 2)]
        for n, pair in enumerate(pairs):
            codes = "、".join(c.code for c in pair)
            # Managed by the committee of its cells (/admin/users), like the leads.
            staff.append(self.user(f"xg{n + 1:02d}", Role.COORDINATOR,
                                   self.chinese_name(self.rng.choice("MF"), 1985), f"网格 {codes}",
                                   committee_id=self.committees[pair[0].committee][0]))
        self.session.add_all(staff)
        self.session.flush()
        self.user_count += len(staff)
        for user, pair in zip(staff, pairs, strict=True):
            for cell in pair:
                cell.coordinators.append(user.id)
                self.out.add(cell_coordinator, {"cell_id": cell.id, "user_id": user.id})

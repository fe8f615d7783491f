"""Demo data: a deterministic, realistic subdistrict modelled on 方松街道 (Songjiang, Shanghai).

`generate()` fills an empty database with committees, grid cells that tile the area, houses
in 小区 buildings, shops and dormitories, their plate codes, people of every category with
valid ID numbers, residencies, units with valid credit codes, users and recent visits.

Everything comes from one `random.Random(seed)` and the fixed REFERENCE_DATE, so the same
seed gives the same rows (UUIDs included) on every machine. Rows are built as dicts and
written with Core executemany in batches, because ORM objects one by one are ~20× slower at
the district scale (scale 40: 200k+ houses). The caller commits.
"""
from __future__ import annotations

import math
import random
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from itertools import accumulate
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from webapp.models import (
    Cell,
    Committee,
    House,
    HouseCode,
    HouseEvent,
    HouseFlag,
    Person,
    Residency,
    Room,
    Unit,
    User,
    Visit,
    cell_coordinator,
)
from webapp.models.enums import (
    HouseCodeKind,
    HouseEventKind,
    HouseFlagKind,
    HouseUse,
    PersonCategory,
    Relation,
    Role,
    Source,
    UnitKind,
    VisitOutcome,
)
from webapp.validation import (
    ALPHABET,
    HOUSE_BODY_LEN,
    IdType,
    area_full_name,
    check_char_gb11643,
    county_codes,
    make_house_code,
    uscc_check_char,
)

Progress = Callable[[str, int, int], None]

# "Today" for the demo: ages, permit expiries and visit times are relative to it.
REFERENCE_DATE = date(2026, 11, 26)
REFERENCE_TIME = datetime(2026, 11, 26, 4, 0, tzinfo=timezone.utc)  # noon in Shanghai
_SHANGHAI = timezone(timedelta(hours=8))

# Scale 1 covers lon 121.21–121.25, lat 31.01–31.05 (about 方松街道); larger scales grow
# the area around the same centre with cells of the same size.
CENTRE = (121.23, 31.03)
CELL_SIZE = (0.005, 0.005)
BLOCK = (4, 2)  # cells per committee: columns × rows
# Internal vertices move by up to this share of a cell side: cells stay convex quadrilaterals
# (3 × 0.15·√2 < √2/2 keeps every corner on its side of the neighbours' diagonal).
JITTER = 0.15
HOUSES_AT_SCALE_1 = 5600
BATCH = 5000

SONGJIANG = "310117"
SONGJIANG_COUNTY = "310227"  # before 1998; an ID number keeps its area code for life


@dataclass
class DemoSummary:
    seed: int
    scale: float
    counts: dict[str, int]
    # (username, role, display name, what they see); a sample covering every role.
    logins: list[tuple[str, str, str, str]] = field(default_factory=list)


def generate(
    session: Session,
    *,
    scale: float = 1.0,
    seed: int = 20180210,
    password_hash: str,
    progress: Progress | None = None,
) -> DemoSummary:
    """Fill an empty database with a demo subdistrict; flushes but never commits."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    gen = _Generator(session, scale, seed, password_hash, progress)
    return gen.run()


# --- Vocabulary ----------------------------------------------------------------------

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
# Old Shanghai families: these surnames are far more common among local hukou holders.
_SURNAMES_LOCAL = "沈陆顾朱张徐王李陈周吴金钱蒋杨黄姚俞唐范孙施潘曹许费邵胡何郁瞿奚"
# Zipf-like, so the first surnames of a list are the most common (王 about 5 %, as in China).
_SURNAME_WEIGHTS = {
    names: list(accumulate(1 / (i + 8) for i in range(len(names)))) for names in (_SURNAMES, _SURNAMES_LOCAL)
}
_GIVEN = {
    ("M", "old"): "建国伟强军明华平刚勇林国文荣福根宝德兴海忠志民金祥龙富昌生",
    ("M", "new"): "浩宇轩子泽博睿俊杰晨昊天辰逸然一航鑫凯思彦铭瑞嘉翔毅诚锦宸",
    ("F", "old"): "秀英兰珍凤华芳玉梅琴娟萍红丽美淑桂霞敏燕静云莲",
    ("F", "new"): "欣怡梓涵萱诗雨琪思佳可馨悦彤婷雪妍晴宁语若依瑶",
}
# ISO 3166 numeric nationality, given names, surnames, passport pattern (# digit, @ letter).
_FOREIGN = (
    ("840", ("JOHN", "MICHAEL", "DAVID", "EMILY", "SARAH", "JESSICA"),
     ("SMITH", "JOHNSON", "BROWN", "MILLER", "DAVIS"), "#########"),
    ("826", ("JAMES", "OLIVER", "HARRY", "AMELIA", "OLIVIA"),
     ("WILSON", "TAYLOR", "EVANS", "THOMAS", "ROBERTS"), "#########"),
    ("276", ("THOMAS", "LUKAS", "ANNA", "LENA", "FELIX"),
     ("MUELLER", "SCHMIDT", "SCHNEIDER", "FISCHER", "WEBER"), "C@@#@@#@#"),
    ("250", ("PIERRE", "LOUIS", "CAMILLE", "MANON", "JULIEN"),
     ("MARTIN", "BERNARD", "DUBOIS", "LAURENT", "MOREAU"), "##@@#####"),
    ("392", ("HIROSHI", "KENJI", "YUKI", "SAKURA", "TAKUMI"),
     ("TANAKA", "SUZUKI", "SATO", "TAKAHASHI", "WATANABE"), "T@#######"),
    ("410", ("MINJUN", "SEOYEON", "JIWOO", "HYUNWOO", "SOOJIN"),
     ("KIM", "LEE", "PARK", "CHOI", "JUNG"), "M########"),
    ("702", ("WEI MING", "JIA HUI", "KAI WEN", "SHU TING"),
     ("TAN", "LIM", "NG", "ONG", "GOH"), "K#######@"),
)
_PHONE_PREFIXES = (
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 173 175"
    " 176 177 178 180 181 182 183 184 185 186 187 188 189 191 198 199"
).split()
# Where 来沪 people come from (GB/T 2260 province prefix, weight): Shanghai's big sources.
_MIGRANT_PROVINCES = (
    ("34", 22), ("32", 14), ("41", 11), ("51", 8), ("36", 7), ("33", 6), ("42", 5), ("37", 5),
    ("43", 4), ("50", 3), ("52", 3), ("62", 2), ("23", 2), ("13", 2), ("45", 1), ("61", 1),
    ("35", 1), ("14", 1), ("22", 1), ("21", 1), ("53", 1),
)
_MIGRANT_PREFIXES = [p for p, _ in _MIGRANT_PROVINCES]
_MIGRANT_CUM = list(accumulate(w for _, w in _MIGRANT_PROVINCES))
# Current Shanghai districts and the county codes their older residents' ID numbers carry.
_SH_OLD_CODES = {
    "310117": "310227", "310106": "310108", "310114": "310222", "310116": "310228",
    "310118": "310229", "310120": "310226", "310151": "310230", "310115": "310225",
}
_SH_ROADS = {
    "310101": ("南京东路", "河南中路", "复兴中路"), "310104": ("漕溪北路", "天钥桥路", "龙华西路"),
    "310105": ("延安西路", "天山路", "仙霞路"), "310106": ("共和新路", "延长中路", "西康路"),
    "310107": ("曹杨路", "真北路", "武宁路"), "310109": ("四平路", "大连路", "曲阳路"),
    "310110": ("控江路", "国权路", "长阳路"), "310112": ("莘松路", "七莘路", "沪闵路"),
    "310113": ("牡丹江路", "友谊路", "淞滨路"), "310114": ("城中路", "博乐路", "清河路"),
    "310115": ("浦东南路", "张杨路", "东方路"), "310116": ("卫零路", "龙胜路", "蒙山路"),
    "310118": ("城中北路", "公园路", "华青路"), "310120": ("南桥路", "解放东路", "环城东路"),
    "310151": ("八一路", "人民路", "东门路"),
}
_COMMITTEE_FIRST = ("方松一村", "方松二村", "蓝天一村", "蓝天二村", "蓝天三村", "荣乐新村", "文诚苑", "松乐苑")
_COMMITTEE_PREFIX = (
    "方松", "蓝天", "荣乐", "文诚", "松乐", "江秋", "新凯", "茸梅", "谷阳", "西林", "嘉松", "广富",
    "泗泾", "九亭", "佘山", "云间", "华亭", "通波", "白粮", "龙源", "玉树", "梅家浜", "乐都", "仓城",
    "永丰", "岳阳", "中山", "车墩", "新桥", "洞泾", "石湖荡", "叶榭", "小昆山",
)
_COMMITTEE_SUFFIX = ("一村", "二村", "三村", "四村", "新村", "花园", "苑", "家园", "名邸", "小区")
_ROADS_NS = ("谷阳北路", "人民北路", "西林北路", "嘉松南路", "茸梅路", "文诚路", "龙源路", "白粮路",
             "玉树路", "梅家浜路", "通波路", "松卫北路")
_ROADS_EW = ("荣乐东路", "中山中路", "松汇中路", "新松江路", "文翔路", "广富林路", "方松路", "江学路",
             "思贤路", "乐都路", "玉阳路", "文汇路")
_ROAD_CHARS = "松茸云泗九佘广富林乐荣文翔梅华德玉树方塔汇庙江学龙源新仓城岳阳永丰洞泾叶榭昆秀"
_SHOP_KINDS = ("面馆", "便利店", "水果店", "理发店", "五金店", "洗衣店", "小吃店", "烟酒店", "药房",
               "早餐店", "修车铺", "花店", "快递驿站", "房产中介")
_INDUSTRIES = ("贸易", "科技", "餐饮管理", "物业管理", "信息技术", "建筑装饰", "电子商务", "文化传播",
               "物流", "服装", "机械设备", "家政服务", "教育科技", "健康管理", "广告")
_BRAND_CHARS = "华鑫顺达恒泰宏盛嘉汇博睿锦程新源瑞丰天佳益诚通茂永兴"
_ROOM_NAMES = ("主卧", "次卧", "北卧", "南卧", "书房")
_SAMPLE_LOGINS = ("centre", "police", "jw01", "wg01", "xg01", "xg02", "jw02")


class _Addr(NamedTuple):
    """The fields House.address reads, so the model's own formatter can be reused."""

    road: str
    number: str
    building: str | None
    unit: str | None
    room: str | None


def _address(addr: _Addr) -> str:
    # One source of truth for how Shanghai addresses are written: the model's property.
    return House.address.fget(addr)  # type: ignore[attr-defined]


# --- Geometry ------------------------------------------------------------------------

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


# --- Generated records kept in memory (only what later stages need) ---------------------


@dataclass
class _Cell:
    index: int
    id: uuid.UUID
    code: str
    committee: int
    quad: _Quad
    roads: tuple[str, str]
    coordinators: list[int] = field(default_factory=list)


@dataclass(slots=True)
class _House:
    id: uuid.UUID
    cell: int
    lon: float
    lat: float
    use: str
    addr: _Addr
    kind: str  # site kind: block / shop / office / dorm
    rooms: list[uuid.UUID]
    group_rent: bool = False
    lived_in_shop: bool = False


@dataclass
class _Site:
    """A building or premises on one spot; expands into houses."""

    kind: str
    road: str
    number: str
    building: str | None
    units: int
    floors: int
    per_floor: int
    u: float = 0.5
    v: float = 0.5


# One person of a household: (relation to the house, room, person spec).
_Member = tuple[str, "uuid.UUID | None", dict[str, Any]]


class _Writer:
    """Buffers rows per table; flushes all tables in foreign-key order when one is full."""

    ORDER: tuple[Table, ...] = (
        cast(Table, Committee.__table__), cast(Table, Cell.__table__), cell_coordinator,
        *(cast(Table, m.__table__)
          for m in (House, HouseCode, Room, HouseFlag, HouseEvent, Unit, Person, Residency, Visit)),
    )

    def __init__(self, session: Session, progress: Progress | None) -> None:
        self.session = session
        self.progress = progress
        self.buffers: dict[Table, list[dict[str, Any]]] = {t: [] for t in self.ORDER}
        self.counts: Counter[str] = Counter()
        self.stage, self.done, self.total = "", 0, 0

    def add(self, target: type[Any] | Table, row: dict[str, Any]) -> None:
        """Queue a row for a model class (or a plain Table such as cell_coordinator)."""
        rows = self.buffers[target if isinstance(target, Table) else target.__table__]
        rows.append(row)
        if len(rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        for table in self.ORDER:
            rows = self.buffers[table]
            if rows:
                self.session.execute(insert(table), rows)
                self.counts[table.name] += len(rows)
                self.buffers[table] = []
        self.report()

    def report(self) -> None:
        if self.progress is not None:
            self.progress(self.stage, self.done, self.total)

    def begin(self, stage: str, total: int) -> None:
        self.stage, self.done, self.total = stage, 0, total
        self.report()


def _synced(row_id: uuid.UUID, **values: Any) -> dict[str, Any]:
    return {"id": row_id, "version": 1, "changed_at": REFERENCE_TIME, **values}


# --- The generator -------------------------------------------------------------------


class _Generator:
    def __init__(
        self, session: Session, scale: float, seed: int, password_hash: str,
        progress: Progress | None,
    ) -> None:
        self.session = session
        self.scale, self.seed = scale, seed
        self.password_hash = password_hash
        self.rng = random.Random(seed)
        self.out = _Writer(session, progress)
        self.layout = _Layout.for_scale(scale)
        self.committees: list[tuple[uuid.UUID, str]] = []
        self.cells: list[_Cell] = []
        self.houses: list[_House] = []
        self.units: list[uuid.UUID] = []  # employers (enterprises and shops)
        self.dorm_employer: dict[tuple[str, str], uuid.UUID] = {}
        self.logins: list[tuple[str, str, str, str]] = []
        self.used_ids: set[str] = set()
        self.used_names: set[str] = set()
        self.lane_counter: Counter[str] = Counter()
        self.code_perm = self._permutation(31**HOUSE_BODY_LEN)
        self.ext_perm = self._permutation(10**10)
        self.codes_issued = 0
        self.counties: dict[str, list[str]] = {}
        self.commercial: list[_House] = []
        self.residential: list[_House] = []
        self.user_count = 0

    def run(self) -> DemoSummary:
        self.areas()
        self.all_houses()
        self.all_units()
        self.all_people()
        self.visits()
        self.out.flush()
        counts = dict(self.out.counts)
        counts["users"] = self.user_count
        return DemoSummary(self.seed, self.scale, counts, self.logins)

    # -- small helpers --

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _permutation(self, modulus: int) -> tuple[int, int, int]:
        """An affine bijection on [0, modulus): distinct inputs give distinct, random-looking codes."""
        while True:
            mult = self.rng.randrange(modulus // 7, modulus)
            if math.gcd(mult, modulus) == 1:
                return mult, self.rng.randrange(modulus), modulus

    @staticmethod
    def _apply(perm: tuple[int, int, int], n: int) -> int:
        mult, offset, modulus = perm
        return (n * mult + offset) % modulus

    def plate_code(self) -> str:
        n = self._apply(self.code_perm, self.codes_issued)
        self.codes_issued += 1
        digits = []
        for _ in range(HOUSE_BODY_LEN):
            n, r = divmod(n, 31)
            digits.append(ALPHABET[r])
        return make_house_code("".join(reversed(digits)))

    def phone(self) -> str:
        return self.rng.choice(_PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def chinese_name(self, sex: str, born: int, local: bool = False, surname: str | None = None) -> str:
        rng = self.rng
        if surname is None:
            surnames = _SURNAMES_LOCAL if local and rng.random() < 0.7 else _SURNAMES
            surname = rng.choices(surnames, cum_weights=_SURNAME_WEIGHTS[surnames])[0]
        era = "old" if born < 1975 else "new" if born >= 1995 else rng.choice(("old", "new"))
        pool = _GIVEN[(sex, era)]
        given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.7 else "")
        return surname + given

    def birth_date(self, age: int) -> date:
        age = max(0, min(age, 95))
        days = age * 365 + self.rng.randrange(1, 365)
        return REFERENCE_DATE - timedelta(days=days)

    def days_ago(self, lo: int, hi: int) -> date:
        return REFERENCE_DATE - timedelta(days=self.rng.randint(lo, hi))

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
                                   f"{comm}的 {per} 个网格（网格长）"))
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

    def coordinators(self) -> None:
        """One coordinator per two neighbouring cells (xg01, xg02, …)."""
        staff = []
        pairs = [self.cells[i:i + 2] for i in range(0, len(self.cells), 2)]
        for n, pair in enumerate(pairs):
            codes = "、".join(c.code for c in pair)
            staff.append(self.user(f"xg{n + 1:02d}", Role.COORDINATOR,
                                   self.chinese_name(self.rng.choice("MF"), 1985), f"网格 {codes}"))
        self.session.add_all(staff)
        self.session.flush()
        self.user_count += len(staff)
        for user, pair in zip(staff, pairs, strict=True):
            for cell in pair:
                cell.coordinators.append(user.id)
                self.out.add(cell_coordinator, {"cell_id": cell.id, "user_id": user.id})

    # -- houses --

    def all_houses(self) -> None:
        per_cell = HOUSES_AT_SCALE_1 * self.scale / len(self.cells)
        self.out.begin("houses", len(self.cells))
        for cell in self.cells:
            budget = round(per_cell * self.rng.uniform(0.75, 1.25))
            for site in self.place(cell, self.sites(cell, budget)):
                self.expand(cell, site)
            self.out.done += 1
        self.house_extras()
        self.out.flush()

    def sites(self, cell: _Cell, budget: int) -> list[_Site]:
        rng = self.rng
        sites = [self.site("shop", cell, 1, 1, 1) for _ in range(rng.randint(2, 4))]
        if rng.random() < 0.25:
            sites.append(self.site("office", cell, 1, rng.randint(2, 4), rng.randint(1, 2)))
        if rng.random() < 0.10:
            sites.append(self.site("dorm", cell, 1, rng.randint(2, 3), rng.randint(3, 5)))
        left = budget - sum(s.units * s.floors * s.per_floor for s in sites)
        while left > 0:
            left -= self.compound(cell, left, sites)
        return sites

    def site(self, kind: str, cell: _Cell, units: int, floors: int, per_floor: int) -> _Site:
        road = self.rng.choice(cell.roads)
        self.lane_counter[road] += self.rng.randint(2, 24)
        building = "宿舍楼" if kind == "dorm" else None
        return _Site(kind, road, str(self.lane_counter[road]), building, units, floors, per_floor)

    def compound(self, cell: _Cell, left: int, sites: list[_Site]) -> int:
        """A 小区 on a lane (弄) with numbered buildings (号楼); returns how many houses it holds."""
        rng = self.rng
        road = rng.choice(cell.roads)
        self.lane_counter[road] += rng.randint(2, 24)
        lane, total, n = f"{self.lane_counter[road]}弄", 0, 0
        while total < left:
            n += 1
            if left - total >= 60 and rng.random() < 0.2:  # high-rise
                dims = (rng.randint(1, 2), rng.randint(11, 18), rng.randint(2, 4))
            else:  # the 6-storey walk-ups of the 1990s 新村
                dims = (rng.randint(1, 3), rng.choice((5, 6, 6, 6, 7)), 2)
            sites.append(_Site("block", road, lane, str(n), *dims))
            total += dims[0] * dims[1] * dims[2]
            if n >= 12:
                break
        return total

    def place(self, cell: _Cell, sites: list[_Site]) -> list[_Site]:
        """Shops in a row near the road side, buildings on a jittered grid, all well inside."""
        rng = self.rng
        shops = [s for s in sites if s.kind == "shop"]
        others = [s for s in sites if s.kind != "shop"]
        for i, s in enumerate(shops):
            s.u, s.v = 0.1 + 0.8 * (i + 0.5) / len(shops), 0.07
        g = max(1, math.ceil(math.sqrt(len(others))))
        for i, s in enumerate(others):
            r, c = divmod(i, g)
            s.u = 0.1 + 0.75 * (c + 0.5 + rng.uniform(-0.3, 0.3)) / g
            s.v = 0.15 + 0.7 * (r + 0.5 + rng.uniform(-0.3, 0.3)) / g
        return sites

    def expand(self, cell: _Cell, site: _Site) -> None:
        for unit in range(1, site.units + 1):
            # Entrances of one building sit side by side along it.
            lon, lat = cell.quad.point(site.u + 0.012 * (unit - 1), site.v)
            for floor in range(1, site.floors + 1):
                for k in range(1, site.per_floor + 1):
                    self.house(cell, site, unit, floor, k, lon, lat)

    def house(self, cell: _Cell, site: _Site, unit: int, floor: int, k: int, lon: float, lat: float) -> None:
        rng = self.rng
        room = None if site.kind == "shop" else f"{floor}{k:02d}"
        addr = _Addr(site.road, site.number, site.building, str(unit) if site.units > 1 else None, room)
        use, floor_area, living = self.house_use(site.kind)
        rec = _House(self.new_id(), cell.index, lon, lat, use, addr, site.kind, [])
        self.houses.append(rec)
        self.out.add(House, _synced(
            rec.id, cell_id=cell.id, cell_manual=False, road=addr.road, number=addr.number,
            building=addr.building, unit=addr.unit, floor=floor, room=room, lon=lon, lat=lat,
            use=use, floor_area=floor_area, living_area=living,
            note="单位宿舍" if site.kind == "dorm" else None,
        ))
        self.code(rec.id, self.plate_code(), HouseCodeKind.PLATE)
        if rng.random() < 0.3:  # the police address code, where the house has one
            self.code(rec.id, f"SJ{self._apply(self.ext_perm, len(self.houses)):010d}", HouseCodeKind.EXTERNAL)
        if use == HouseUse.RENTED:
            self.rooms(rec, living or 40.0)
        if site.kind == "office" or site.kind == "shop":
            self.commercial.append(rec)

    def house_use(self, kind: str) -> tuple[str, float, float | None]:
        """Use, floor area and living area (m²) of a new house of a site kind."""
        rng = self.rng
        if kind in ("shop", "office"):
            return HouseUse.COMMERCIAL.value, round(rng.uniform(20, 400), 1), None
        if kind == "dorm":
            area = round(rng.uniform(20, 40), 1)
            return HouseUse.DORMITORY.value, area, round(area * 0.75, 1)
        area = round(rng.uniform(45, 140), 1)
        use = rng.choices(
            (HouseUse.OWNER_OCCUPIED, HouseUse.RENTED, HouseUse.IDLE, HouseUse.OTHER),
            cum_weights=(58, 88, 98.5, 100),
        )[0]
        return use.value, area, round(area * rng.uniform(0.55, 0.7), 1)

    def code(self, house_id: uuid.UUID, code: str, kind: str, retired: datetime | None = None) -> None:
        self.out.add(HouseCode, _synced(
            self.new_id(), code=code, kind=str(kind), house_id=house_id, retired_at=retired,
        ))

    def rooms(self, rec: _House, living: float) -> None:
        """Rented flats are let by the room; a few are partitioned for group renting (群租)."""
        rng = self.rng
        rec.group_rent = rng.random() < 0.06
        if not rec.group_rent and rng.random() < 0.3:
            return  # let whole to one household: no rooms recorded
        names = list(_ROOM_NAMES[: rng.randint(2, 3)])
        if rec.group_rent:
            names = list(_ROOM_NAMES) + ["客厅隔间1", "客厅隔间2", "阳台隔间"][: rng.randint(1, 3)]
        for name in names:
            small = "隔间" in name
            area = round(rng.uniform(4, 7) if small else max(6.0, living / len(names) * rng.uniform(0.8, 1.2)), 1)
            rid = self.new_id()
            rec.rooms.append(rid)
            self.out.add(Room, _synced(rid, house_id=rec.id, name=name, living_area=area))

    def house_extras(self) -> None:
        """Flags on a few percent of houses, and a handful of split / re-plated histories."""
        for rec in self.houses:
            kind = self.flag_kind(rec)
            if kind is not None:
                self.flag(rec, kind)
        blocks = [h for h in self.houses if h.kind == "block"]
        for _ in range(max(2, len(self.houses) // 800)):
            self.replate(self.rng.choice(blocks))
        splits = max(2, len(self.houses) // 1500)
        for _ in range(splits * 20):  # most draws are not a split-able pair; stop at the quota
            splits -= self.split(self.rng.randrange(1, len(self.houses)))
            if splits == 0:
                break

    def flag_kind(self, rec: _House) -> str | None:
        r = self.rng.random()
        if rec.group_rent:
            return HouseFlagKind.GROUP_RENT
        if rec.use == HouseUse.IDLE and r < 0.2:
            return HouseFlagKind.VACANT
        if rec.kind == "shop" and r < 0.08:
            rec.lived_in_shop = True  # somebody sleeps in the shop: 非改居
            return HouseFlagKind.NONRES_TO_RES
        if rec.use == HouseUse.OWNER_OCCUPIED and r < 0.004:
            return HouseFlagKind.RES_TO_NONRES
        if rec.kind == "block" and r > 0.996:
            return HouseFlagKind.ILLEGAL_BUILDING
        return None

    def flag(self, rec: _House, kind: str) -> None:
        rng = self.rng
        notes: dict[str, str] = {
            HouseFlagKind.GROUP_RENT: "客厅隔断出租，居住人数多",
            HouseFlagKind.VACANT: "多次上门无人，水电表读数未变",
            HouseFlagKind.NONRES_TO_RES: "商铺内有人居住",
            HouseFlagKind.RES_TO_NONRES: "住宅用作办公或仓库",
            HouseFlagKind.ILLEGAL_BUILDING: "屋顶违章搭建",
        }
        raised = REFERENCE_TIME - timedelta(days=rng.randint(1, 200), minutes=rng.randint(0, 600))
        # Some vacancy flags were later cleared (the house was let again).
        cleared = None
        if kind == HouseFlagKind.VACANT and rng.random() < 0.2:
            cleared = raised + timedelta(days=rng.randint(1, 30))
        self.out.add(HouseFlag, _synced(
            self.new_id(), house_id=rec.id, kind=str(kind), note=notes[kind],
            raised_by_id=self.rng.choice(self.cells[rec.cell].coordinators),
            raised_at=raised, cleared_at=cleared,
        ))

    def replate(self, rec: _House) -> None:
        """The old plate was damaged and replaced: it stays on file, retired, and still resolves."""
        at = REFERENCE_TIME - timedelta(days=self.rng.randint(5, 300))
        old = self.plate_code()
        self.code(rec.id, old, HouseCodeKind.PLATE, retired=at)
        self.event(rec.id, HouseEventKind.REPLATED, at, [], {"old_code": old, "reason": "门牌损坏"})

    def split(self, i: int) -> int:
        """A flat divided into two; its neighbour in the list is the other half. Returns 1 if done."""
        rec, other = self.houses[i], self.houses[i - 1]
        if rec.kind != "block" or other.addr[:3] != rec.addr[:3]:
            return 0
        at = REFERENCE_TIME - timedelta(days=self.rng.randint(30, 900))
        self.event(rec.id, HouseEventKind.SPLIT, at, [str(other.id)], {"note": "一套拆分为两套，分别登记"})
        return 1

    def event(self, house_id: uuid.UUID, kind: str, at: datetime, related: list[str], detail: dict[str, Any]) -> None:
        self.out.add(HouseEvent, _synced(
            self.new_id(), house_id=house_id, kind=str(kind), at=at, related_house_ids=related, detail=detail,
        ))

    # -- units --

    def all_units(self) -> None:
        self.out.begin("units", len(self.commercial))
        for rec in self.commercial:
            if rec.kind == "office" or self.rng.random() < 0.85:
                self.unit(rec)
            self.out.done += 1
        self.out.flush()

    def unit(self, rec: _House) -> None:
        rng = self.rng
        kind = rng.choices((UnitKind.SHOP, UnitKind.ENTERPRISE, UnitKind.PUBLIC, UnitKind.SOCIAL),
                           cum_weights=(55, 92, 96, 100))[0] if rec.kind == "shop" else UnitKind.ENTERPRISE
        uid = self.new_id()
        contacts = [{"name": self.chinese_name(rng.choice("MF"), 1980), "phone": self.phone(), "role": role}
                    for role in ("法定代表人", "联系人")[: rng.randint(1, 2)]]
        self.out.add(Unit, _synced(
            uid, name=self.unit_name(kind, rec), uscc=self.uscc(kind), house_id=rec.id,
            kind=str(kind), contacts=contacts,
        ))
        if kind in (UnitKind.SHOP, UnitKind.ENTERPRISE):
            self.units.append(uid)

    def unit_name(self, kind: str, rec: _House) -> str:
        rng = self.rng
        for attempt in range(50):
            if kind == UnitKind.SHOP:
                name = f"松江区方松街道{rng.choice(_SURNAMES[:40])}记{rng.choice(_SHOP_KINDS)}"
            elif kind == UnitKind.ENTERPRISE:
                name = f"上海{rng.choice(_BRAND_CHARS)}{rng.choice(_BRAND_CHARS)}{rng.choice(_INDUSTRIES)}有限公司"
            elif kind == UnitKind.PUBLIC:
                name = f"方松街道社区卫生服务站（{rec.addr.road}）"
            else:
                name = f"松江区{rec.addr.road[:2]}{rng.choice(('养老服务社', '志愿者服务中心', '青少年活动中心'))}"
            if attempt > 10:
                name += f"（{rec.addr.road}店）" if kind == UnitKind.SHOP else f"第{attempt}分部"
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        return name

    def uscc(self, kind: str) -> str:
        """GB 32100 code: department + type, Songjiang area code, organisation code, check."""
        prefix: str = {UnitKind.SHOP.value: "92", UnitKind.ENTERPRISE.value: "91", UnitKind.PUBLIC.value: "12",
                       UnitKind.SOCIAL.value: "52"}[kind]
        while True:
            body = self.org_code()
            first17 = prefix + SONGJIANG + body
            code = first17 + uscc_check_char(first17)
            if code not in self.used_ids:
                self.used_ids.add(code)
                return code

    def org_code(self) -> str:
        """A 9-character organisation code (GB 11714: 8 characters + its own check)."""
        rng = self.rng
        if rng.random() < 0.7:  # codes issued since 2015 in Shanghai start with MA1
            head = "MA1" + "".join(rng.choice(ALPHABET) for _ in range(5))
        else:
            head = "".join(rng.choice("0123456789") for _ in range(8))
        # GB 11714 check: letters count 10–35, weights 3 7 9 10 5 8 4 2, 11 − (Σ mod 11).
        weights = (3, 7, 9, 10, 5, 8, 4, 2)
        total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(head, weights, strict=True))
        check = 11 - total % 11
        return head + ("X" if check == 10 else "0" if check == 11 else str(check))

    # -- people --

    def all_people(self) -> None:
        self.out.begin("persons", len(self.houses))
        self.residential = [h for h in self.houses if h.kind == "block"]
        for rec in self.houses:
            for household in self.households(rec):
                hid = self.new_id()
                for relation, room, person in household:
                    self.person(person, rec, relation, room, hid)
            self.out.done += 1
        self.out.flush()

    def households(self, rec: _House) -> list[list[_Member]]:
        """The people living in a house, grouped by household: (relation, room, person)."""
        rng = self.rng
        if rec.use == HouseUse.OWNER_OCCUPIED:
            return [self.family(rng.choices(range(1, 7), cum_weights=(12, 42, 72, 87, 97, 100))[0])]
        if rec.use == HouseUse.RENTED:
            n = rng.randint(5, 8) if rec.group_rent else rng.choices((1, 2, 3), cum_weights=(70, 92, 100))[0]
            return [self.tenants(rec, i, 2 if rec.group_rent else 4) for i in range(n)]
        if rec.use == HouseUse.DORMITORY:
            employer = self.dorm_unit(rec)
            return [[(Relation.EMPLOYEE, None, self.adult("migrant", employer))] for _ in range(rng.randint(2, 6))]
        if rec.lived_in_shop:
            return [self.tenants(rec, 0, 3)]
        if rec.use == HouseUse.OTHER and rng.random() < 0.5:
            return [[(Relation.OTHER, None, self.adult(self.category(False), None))]]
        return []  # idle flats and ordinary shops: nobody lives there

    def dorm_unit(self, rec: _House) -> uuid.UUID | None:
        key = (rec.addr.road, rec.addr.number)
        if key not in self.dorm_employer and self.units:
            self.dorm_employer[key] = self.rng.choice(self.units)
        return self.dorm_employer.get(key)

    def category(self, owner: bool) -> str:
        weights = (62, 87, 97, 100) if owner else (2, 15, 95, 100)
        return self.rng.choices(
            (PersonCategory.HUJI, PersonCategory.SEPARATED, PersonCategory.MIGRANT, PersonCategory.OVERSEAS),
            cum_weights=weights,
        )[0]

    def family(self, size: int) -> list[_Member]:
        """Owner, spouse, children, grandparents: ages consistent with each other."""
        rng = self.rng
        cat = self.category(True)
        head_age = rng.randint(25, 88)
        head_sex = rng.choice("MF")
        home: dict[str, Any] = {}  # what the household shares: surname, hukou region and address
        members = [(Relation.OWNER, self.spec(cat, head_age, head_sex, home))]
        if size >= 2 and rng.random() < 0.85:
            spouse_age = max(20, min(95, head_age + rng.randint(-6, 6)))
            spouse_sex = "F" if head_sex == "M" else "M"
            members.append((Relation.FAMILY, self.spec(cat, spouse_age, spouse_sex, home, kin=False)))
        while len(members) < size:
            if head_age + 25 <= 95 and head_age < 55 and rng.random() < 0.25:  # a grandparent
                age = rng.randint(head_age + 22, min(95, head_age + 32))
            else:
                age = rng.randint(max(0, head_age - 45), max(0, head_age - 22))
            members.append((Relation.FAMILY, self.spec(cat, age, rng.choice("MF"), home)))
        return [(rel, None, spec) for rel, spec in members]

    def tenants(self, rec: _House, index: int, max_size: int) -> list[_Member]:
        rng = self.rng
        room = rec.rooms[index % len(rec.rooms)] if rec.rooms else None
        cat = self.category(False)
        size = rng.choices(range(1, max_size + 1), cum_weights=(35, 70, 90, 100)[:max_size])[0]
        home: dict[str, Any] = {}
        head_age = rng.randint(20, 58)
        out: list[_Member] = [(Relation.TENANT, room, self.spec(cat, head_age, rng.choice("MF"), home))]
        for i in range(1, size):  # a partner of about the same age, then children
            age = max(18, head_age + rng.randint(-6, 6)) if i == 1 else rng.randint(0, min(17, head_age - 20))
            out.append((Relation.FAMILY, room, self.spec(cat, age, rng.choice("MF"), home, kin=i > 1)))
        return out

    def adult(self, cat: str, employer: uuid.UUID | None) -> dict[str, Any]:
        spec = self.spec(cat, self.rng.randint(18, 58), self.rng.choice("MF"), {})
        spec["employer"] = employer
        return spec

    def spec(self, cat: str, age: int, sex: str, home: dict[str, Any], kin: bool = True) -> dict[str, Any]:
        """A person to be: `kin` members carry the household's surname (spouses keep theirs)."""
        return {"category": cat, "birth": self.birth_date(age), "sex": sex, "employer": None,
                "home": home, "kin": kin}

    def person(self, spec: dict[str, Any], rec: _House, relation: str, room: uuid.UUID | None, hid: uuid.UUID) -> None:
        pid = self.new_id()
        row = self.identity(spec, rec)
        age = (REFERENCE_DATE - spec["birth"]).days // 365
        phone = self.phone() if age >= 16 and self.rng.random() < (0.6 if age > 80 else 0.95) else None
        employer = spec["employer"]
        if employer is None and 18 <= age <= 60 and self.units and self.rng.random() < 0.3:
            employer = self.rng.choice(self.units)
        self.out.add(Person, _synced(
            pid, **row, sex=spec["sex"], birth_date=spec["birth"], phone=phone,
            phone_rev=phone[::-1] if phone else None, category=str(spec["category"]),
            employer_unit_id=employer, note=None,
        ))
        self.residencies(pid, spec["birth"], rec, relation, room, hid)

    # -- identities --

    def identity(self, spec: dict[str, Any], rec: _House) -> dict[str, Any]:
        """Name, ID document, hukou and permit columns for a person of a category."""
        cat, born, sex = spec["category"], spec["birth"], spec["sex"]
        row: dict[str, Any] = dict.fromkeys(
            ("hukou_region", "hukou_road", "hukou_number", "hukou_building", "hukou_room",
             "hukou_address", "permit_number", "permit_expiry"))
        if cat == PersonCategory.OVERSEAS:
            row.update(self.overseas(born, sex))
        else:
            home = spec["home"]
            if "region" not in home:  # a family shares its hukou region (and address below)
                home["region"] = self.hukou_region(cat)
            region = home["region"]
            row["name"] = self.family_name(spec, region.startswith("31"))
            row["id_type"] = IdType.RESIDENT.value
            row["id_number"] = self.resident_id(self.birth_area(region, born), born, sex)
            row["hukou_region"] = region
            if cat == PersonCategory.MIGRANT:
                row["hukou_address"] = area_full_name(region)
                row.update(self.permit(born))
            elif cat == PersonCategory.HUJI:
                row.update(self.hukou_address(region, rec))
            else:
                if "hukou" not in home:
                    home["hukou"] = self.hukou_address(region, None)
                row.update(home["hukou"])
        row["id_rev"] = row["id_number"][::-1]
        return row

    def family_name(self, spec: dict[str, Any], local: bool) -> str:
        home, born = spec["home"], spec["birth"]
        name = self.chinese_name(spec["sex"], born.year, local, surname=home.get("surname") if spec["kin"] else None)
        if spec["kin"]:
            home.setdefault("surname", name[0])
        return name

    def hukou_region(self, cat: str) -> str:
        rng = self.rng
        if cat == PersonCategory.MIGRANT:
            prefix = rng.choices(_MIGRANT_PREFIXES, cum_weights=_MIGRANT_CUM)[0]
            return rng.choice(self.county_list(prefix))
        if cat == PersonCategory.SEPARATED and rng.random() < 0.4:
            return rng.choice(self.county_list("31"))
        return SONGJIANG

    def county_list(self, prefix: str) -> list[str]:
        if prefix not in self.counties:
            self.counties[prefix] = county_codes(prefix)
        return self.counties[prefix]

    def birth_area(self, region: str, born: date) -> str:
        """The area code on the ID card: where the person was first registered."""
        rng = self.rng
        if region.startswith("31") and rng.random() < 0.12:  # moved their hukou to Shanghai
            return rng.choice(self.county_list(rng.choice(_MIGRANT_PREFIXES)))
        if born.year < 1998 and region in _SH_OLD_CODES and rng.random() < 0.7:
            return _SH_OLD_CODES[region]
        return region

    def resident_id(self, area: str, born: date, sex: str) -> str:
        """An unused GB 11643 number; the 17th digit is odd for men, even for women."""
        while True:
            seq = self.rng.randrange(100) * 10 + self.rng.randrange(5) * 2 + (1 if sex == "M" else 0)
            first17 = f"{area}{born.year:04d}{born.month:02d}{born.day:02d}{seq:03d}"
            number = first17 + check_char_gb11643(first17)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def hukou_address(self, region: str, rec: _House | None) -> dict[str, Any]:
        """户籍: registered at the house they live in; 人户分离: registered elsewhere in Shanghai."""
        rng = self.rng
        if rec is not None:
            addr = rec.addr
        else:
            roads = _SH_ROADS.get(region) or tuple(self.cells[rng.randrange(len(self.cells))].roads)
            addr = _Addr(rng.choice(roads), f"{rng.randint(1, 900)}弄", str(rng.randint(1, 40)), None,
                         f"{rng.randint(1, 6)}0{rng.randint(1, 4)}")
        return {
            "hukou_road": addr.road, "hukou_number": addr.number, "hukou_building": addr.building,
            "hukou_room": addr.room, "hukou_address": f"{area_full_name(region) or '上海市'}{_address(addr)}",
        }

    def permit(self, born: date) -> dict[str, Any]:
        """居住证 for most adult migrants; some expired, some expiring within 30 days."""
        rng = self.rng
        if (REFERENCE_DATE - born).days < 16 * 365 or rng.random() < 0.25:
            return {}
        r = rng.random()
        if r < 0.06:
            expiry = REFERENCE_DATE - timedelta(days=rng.randint(1, 365))
        elif r < 0.12:
            expiry = REFERENCE_DATE + timedelta(days=rng.randint(0, 30))
        else:
            expiry = REFERENCE_DATE + timedelta(days=rng.randint(31, 1095))
        return {"permit_number": f"SH{expiry.year - 1}{rng.randrange(10**8):08d}", "permit_expiry": expiry}

    def overseas(self, born: date, sex: str) -> dict[str, Any]:
        rng = self.rng
        r = rng.random()
        if r < 0.45:  # Hong Kong, Macao, Taiwan residence permit: GB 11643 rules, areas 81/82/83
            area = rng.choices(("810000", "820000", "830000"), cum_weights=(45, 55, 100))[0]
            return {"name": self.chinese_name(sex, born.year), "id_type": IdType.HMT_PERMIT.value,
                    "id_number": self.resident_id(area, born, sex)}
        nation, given, surnames, pattern = rng.choice(_FOREIGN)
        name = f"{rng.choice(surnames)} {rng.choice(given)}"
        if r < 0.65:  # 2023 permanent residence card: 9 + province + nationality + birth + seq + check
            province = rng.choices(("31", "11", "44", "32"), cum_weights=(70, 80, 90, 100))[0]
            return {"name": name, "id_type": IdType.FOREIGN_PERMANENT.value,
                    "id_number": self.resident_id(f"9{province}{nation}", born, sex)}
        return {"name": name, "id_type": IdType.PASSPORT.value, "id_number": self.passport(pattern)}

    def passport(self, pattern: str) -> str:
        pools = {"#": "0123456789", "@": "ABCDEFGHJKLMNPRSTUVWXYZ"}
        while True:
            number = "".join(self.rng.choice(pools[p]) if p in pools else p for p in pattern)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    # -- residencies --

    def residencies(self, pid: uuid.UUID, born: date, rec: _House, relation: str,
                    room: uuid.UUID | None, hid: uuid.UUID) -> None:
        rng = self.rng
        years = 25 if relation in (Relation.OWNER, Relation.FAMILY) else 5
        start = max(born, self.days_ago(10, years * 365))
        end, reason = None, None
        if rng.random() < 0.02:  # moved away: no current residency any more
            end, reason = self.days_ago(1, 300), "已搬离"
            start = max(born, min(start, end - timedelta(days=30)))
            if end <= start:  # a new-born cannot have left before arriving
                end, reason = None, None
        self.residency(pid, rec.id, room, relation, hid, start, end, reason)
        if rng.random() < 0.08 and (start - born).days > 400:
            self.earlier(pid, born, start)

    def earlier(self, pid: uuid.UUID, born: date, before: date) -> None:
        """Where the person lived before: another house, ended before the current move."""
        rng = self.rng
        end = before - timedelta(days=rng.randint(1, 60))
        start = max(born, end - timedelta(days=rng.randint(90, 3 * 365)))
        if end <= start:
            return
        other = rng.choice(self.residential)
        reason = rng.choice(("租约到期", "搬迁", "购房迁居"))
        self.residency(pid, other.id, None, Relation.TENANT, self.new_id(), start, end, reason)

    def residency(self, pid: uuid.UUID, house_id: uuid.UUID, room: uuid.UUID | None, relation: str,
                  hid: uuid.UUID, start: date, end: date | None, reason: str | None) -> None:
        self.out.add(Residency, _synced(
            self.new_id(), person_id=pid, house_id=house_id, room_id=room, relation=str(relation),
            household_id=hid, start_date=start, end_date=end, end_reason=reason, source=Source.DEMO.value,
        ))

    # -- visits --

    def visits(self) -> None:
        """Coordinators at doors over the last 60 days: most scan the plate, GPS near the house."""
        n = round(len(self.houses) * 0.35)
        self.out.begin("visits", n)
        for _ in range(n):
            self.visit(self.rng.choice(self.houses))
            self.out.done += 1
        self.out.flush()

    def visit(self, rec: _House) -> None:
        rng = self.rng
        day = rng.randint(0, 59)
        # Working hours 09:00–18:30 Shanghai; today's visits are all before REFERENCE_TIME (noon).
        minutes = rng.randint(0, 180 if day == 0 else 570)
        local = datetime.combine(REFERENCE_DATE - timedelta(days=day), datetime.min.time(), _SHANGHAI)
        at = (local + timedelta(hours=9, minutes=minutes, seconds=rng.randint(0, 59))).astimezone(timezone.utc)
        if rec.use == HouseUse.IDLE:
            outcome = rng.choice((VisitOutcome.VACANT, VisitOutcome.VACANT, VisitOutcome.NO_ANSWER))
        else:
            outcome = rng.choices(
                (VisitOutcome.VERIFIED, VisitOutcome.NO_ANSWER, VisitOutcome.REFUSED, VisitOutcome.OTHER),
                cum_weights=(75, 91, 94, 100),
            )[0]
        scanned = rng.random() < 0.88
        has_gps = scanned or rng.random() < 0.7
        user = rng.choice(self.cells[rec.cell].coordinators)
        self.out.add(Visit, _synced(
            self.new_id(), changed_by_id=user, house_id=rec.id, user_id=user, visited_at=at,
            outcome=str(outcome), plate_scanned=scanned, note=None,
            lat=round(rec.lat + rng.gauss(0, 0.00012), 7) if has_gps else None,
            lon=round(rec.lon + rng.gauss(0, 0.00014), 7) if has_gps else None,
            accuracy_m=round(rng.uniform(4, 35), 1) if has_gps else None,
        ))

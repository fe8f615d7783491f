"""Closed vocabularies of the registry, with their Chinese and English labels.

Stored as short strings (not database enums) so that adding a value needs no migration;
the code validates against these classes.
"""
from __future__ import annotations

from enum import StrEnum


class Labelled(StrEnum):
    """A StrEnum whose members carry (zh, en) labels in `LABELS`."""

    @classmethod
    def labels(cls) -> dict[str, tuple[str, str]]:
        return getattr(cls, "_labels", {})

    def label(self, lang: str = "zh") -> str:
        zh, en = type(self).labels()[self.value]
        return zh if lang.startswith("zh") else en

    @classmethod
    def choices(cls, lang: str = "zh") -> list[tuple[str, str]]:
        return [(m.value, m.label(lang)) for m in cls]


class Role(Labelled):
    COORDINATOR = "coordinator"
    GRID_LEAD = "grid_lead"
    COMMITTEE = "committee"
    CENTRE = "centre"
    POLICE = "police"
    # 楼组长, volunteers, property guards: file reports for their committee's houses, see
    # their own reports' outcome, and nothing else (no personal data of occupants).
    REPORTER = "reporter"


Role._labels = {  # type: ignore[attr-defined]
    "coordinator": ("社区综合协管员", "Coordinator"),
    "grid_lead": ("网格长", "Grid lead"),
    "committee": ("居委会", "Committee"),
    "centre": ("人口综合服务管理中心", "Centre"),
    "police": ("派出所（只读）", "Police (read-only)"),
    "reporter": ("社区报告员（楼组长/志愿者/物业）", "Community reporter"),
}


class HouseUse(Labelled):
    OWNER_OCCUPIED = "owner_occupied"
    RENTED = "rented"
    IDLE = "idle"
    DORMITORY = "dormitory"
    COMMERCIAL = "commercial"
    OTHER = "other"


HouseUse._labels = {  # type: ignore[attr-defined]
    "owner_occupied": ("自住", "Owner-occupied"),
    "rented": ("出租", "Rented"),
    "idle": ("闲置", "Idle"),
    "dormitory": ("单位宿舍", "Staff dormitory"),
    "commercial": ("商用", "Commercial"),
    "other": ("其他", "Other"),
}


class HouseFlagKind(Labelled):
    ILLEGAL_BUILDING = "illegal_building"
    RES_TO_NONRES = "res_to_nonres"
    NONRES_TO_RES = "nonres_to_res"
    GROUP_RENT = "group_rent"
    VACANT = "vacant"


HouseFlagKind._labels = {  # type: ignore[attr-defined]
    "illegal_building": ("违法建筑", "Illegal building"),
    "res_to_nonres": ("居改非", "Dwelling used as non-dwelling"),
    "nonres_to_res": ("非改居", "Non-dwelling used as dwelling"),
    "group_rent": ("群租嫌疑", "Suspected group renting"),
    "vacant": ("空置", "Vacant"),
}


class HouseCodeKind(Labelled):
    PLATE = "plate"
    TEMPORARY = "temporary"
    EXTERNAL = "external"


HouseCodeKind._labels = {  # type: ignore[attr-defined]
    "plate": ("门牌码", "Plate code"),
    "temporary": ("临时码", "Temporary code"),
    "external": ("外部编码", "External code"),
}


class HouseEventKind(Labelled):
    CREATED = "created"
    SPLIT = "split"
    MERGED = "merged"
    DEMOLISHED = "demolished"
    REPLATED = "replated"
    CELL_CHANGED = "cell_changed"


HouseEventKind._labels = {  # type: ignore[attr-defined]
    "created": ("建档", "Created"),
    "split": ("拆分", "Split"),
    "merged": ("合并", "Merged"),
    "demolished": ("拆除", "Demolished"),
    "replated": ("换牌", "Re-plated"),
    "cell_changed": ("调整网格", "Cell changed"),
}


class PersonCategory(Labelled):
    HUJI = "huji"
    SEPARATED = "separated"
    MIGRANT = "migrant"
    OVERSEAS = "overseas"


PersonCategory._labels = {  # type: ignore[attr-defined]
    "huji": ("户籍", "Local hukou"),
    "separated": ("人户分离", "Hukou elsewhere in Shanghai"),
    "migrant": ("来沪", "From other provinces"),
    "overseas": ("境外", "Overseas"),
}


class Sex(Labelled):
    MALE = "M"
    FEMALE = "F"


Sex._labels = {"M": ("男", "Male"), "F": ("女", "Female")}  # type: ignore[attr-defined]


class Relation(Labelled):
    OWNER = "owner"
    TENANT = "tenant"
    FAMILY = "family"
    EMPLOYEE = "employee"
    OTHER = "other"


Relation._labels = {  # type: ignore[attr-defined]
    "owner": ("产权人", "Owner"),
    "tenant": ("承租人", "Tenant"),
    "family": ("家庭成员", "Family member"),
    "employee": ("单位员工", "Employee"),
    "other": ("其他", "Other"),
}


class Source(Labelled):
    VISIT = "visit"
    IMPORT = "import"
    DECLARATION = "declaration"
    CONSOLE = "console"
    DEMO = "demo"


Source._labels = {  # type: ignore[attr-defined]
    "visit": ("上门采集", "Field visit"),
    "import": ("批量导入", "Import"),
    "declaration": ("群众申报", "Public declaration"),
    "console": ("后台录入", "Console"),
    "demo": ("演示数据", "Demo data"),
}


class VisitOutcome(Labelled):
    VERIFIED = "verified"
    NO_ANSWER = "no_answer"
    REFUSED = "refused"
    VACANT = "vacant"
    OTHER = "other"


VisitOutcome._labels = {  # type: ignore[attr-defined]
    "verified": ("核实", "Verified"),
    "no_answer": ("无人", "No answer"),
    "refused": ("拒访", "Refused"),
    "vacant": ("空置", "Vacant"),
    "other": ("其他", "Other"),
}


class UnitKind(Labelled):
    ENTERPRISE = "enterprise"
    SHOP = "shop"
    PUBLIC = "public"
    SOCIAL = "social"
    OTHER = "other"


UnitKind._labels = {  # type: ignore[attr-defined]
    "enterprise": ("企业", "Enterprise"),
    "shop": ("个体工商户", "Shop"),
    "public": ("机关事业单位", "Public body"),
    "social": ("社会组织", "Social organisation"),
    "other": ("其他", "Other"),
}


class TaskKind(Labelled):
    MOVED_IN = "moved_in"
    MOVED_OUT = "moved_out"
    PROBLEM = "problem"


TaskKind._labels = {  # type: ignore[attr-defined]
    "moved_in": ("有人搬入", "Someone moved in"),
    "moved_out": ("有人搬离", "Someone moved out"),
    "problem": ("房屋问题", "A problem with the house"),
}


class TaskStatus(Labelled):
    OPEN = "open"
    DONE = "done"
    REJECTED = "rejected"


TaskStatus._labels = {  # type: ignore[attr-defined]
    "open": ("待处理", "Open"),
    "done": ("已处理", "Done"),
    "rejected": ("不予采纳", "Rejected"),
}


class TaskSource(Labelled):
    PUBLIC = "public"
    LEAD = "lead"
    VOLUNTEER = "volunteer"
    SYNC = "sync"
    RULES = "rules"
    PROPERTY = "property"
    PERMIT = "permit"
    UNVISITED = "unvisited"
    CAMPAIGN = "campaign"


TaskSource._labels = {  # type: ignore[attr-defined]
    "public": ("群众扫码", "Public (plate scan)"),
    "lead": ("楼组长/网格长", "Building or grid lead"),
    "volunteer": ("志愿者", "Volunteer"),
    "sync": ("系统：确认迁出", "System: confirm a move-out"),
    "rules": ("系统：规则检查", "System: rule check"),
    "property": ("物业/保安", "Property manager or guard"),
    "permit": ("系统：居住证签注到期", "System: residence permit endorsement due"),
    "unvisited": ("系统：本周期未走访", "System: not yet visited this cycle"),
    "campaign": ("重点区域排查", "Key-area campaign"),
}


class TaskResult(Labelled):
    """How a task closed. Only `changed` counts as a report that led to a real change."""

    CHANGED = "changed"
    NO_CHANGE = "no_change"
    NOT_FOUND = "not_found"
    DUPLICATE = "duplicate"


TaskResult._labels = {  # type: ignore[attr-defined]
    "changed": ("已变更登记", "Registry changed"),
    "no_change": ("核实无变化", "Checked, no change"),
    "not_found": ("查无此情况", "Not found"),
    "duplicate": ("重复报告", "Duplicate report"),
}


class Grade(Labelled):
    """A committee's quality grade (达标) for a collection cycle, best first."""

    EXCELLENT = "excellent"
    GOOD = "good"
    PASS = "pass"
    FAIL = "fail"


Grade._labels = {  # type: ignore[attr-defined]
    "excellent": ("优", "Excellent"),
    "good": ("良", "Good"),
    "pass": ("合格", "Pass"),
    "fail": ("不合格", "Fail"),
}


class ResidenceCheckResult(Labelled):
    """What the committee found when it checked a house as a legal stable residence."""

    STABLE = "stable"
    REFUSED = "refused"


ResidenceCheckResult._labels = {  # type: ignore[attr-defined]
    "stable": ("合法稳定住所", "Legal stable residence"),
    "refused": ("不予认定", "Not accepted"),
}


class ResidenceBasis(Labelled):
    """Why a house is the applicant's lawful stable residence (合法稳定住所的依据)."""

    OWNED = "owned"
    FAMILY_OWNED = "family_owned"
    REGISTERED_LEASE = "registered_lease"
    EMPLOYER_DORMITORY = "employer_dorm"
    PUBLIC_RENTAL = "public_rental"
    OTHER = "other"


ResidenceBasis._labels = {  # type: ignore[attr-defined]
    "owned": ("自有产权住房", "Own property"),
    "family_owned": ("直系亲属自有住房", "A close relative's own property"),
    "registered_lease": ("登记备案的租赁住房", "Registered lease"),
    "employer_dorm": ("单位集体宿舍", "Employer's dormitory"),
    "public_rental": ("公共租赁住房", "Public rental housing"),
    "other": ("其他合法住所", "Other lawful residence"),
}


class PhoneStatus(Labelled):
    """Why a person has no number recorded: an answer, not a gap in the record."""

    NONE = "none"
    REFUSED = "refused"


PhoneStatus._labels = {  # type: ignore[attr-defined]
    "none": ("无电话", "Has no phone"),
    "refused": ("拒绝提供", "Declined to give one"),
}


class RoomKind(Labelled):
    """What a room is: the 群租 rule finds partitioned rooms, basements and non-living rooms let."""

    BEDROOM = "bedroom"
    LIVING_ROOM = "living_room"
    PARTITIONED = "partitioned"
    BASEMENT = "basement"
    KITCHEN = "kitchen"
    BATHROOM = "bathroom"
    BALCONY = "balcony"
    STORAGE = "storage"


RoomKind._labels = {  # type: ignore[attr-defined]
    "bedroom": ("卧室", "Bedroom"),
    "living_room": ("客厅", "Living room"),
    "partitioned": ("隔断间", "Partitioned room"),
    "basement": ("地下室", "Basement"),
    "kitchen": ("厨房", "Kitchen"),
    "bathroom": ("卫生间", "Bathroom"),
    "balcony": ("阳台", "Balcony"),
    "storage": ("储藏室", "Storage room"),
}
# Rooms that may not be let to live in (Shanghai rental rules, check): a person living in one is
# a finding of its own, whatever the count or the area.
NOT_TO_LET = frozenset({RoomKind.KITCHEN, RoomKind.BATHROOM, RoomKind.BALCONY, RoomKind.STORAGE})
# Rooms that are themselves what a 群租 inspection looks for when let.
SUSPECT_ROOMS = frozenset({RoomKind.PARTITIONED, RoomKind.BASEMENT})


class ReviewKind(Labelled):
    """What a grid lead reviews (审核): a coordinator's new registration or move-out."""

    REGISTRATION = "registration"
    MOVE_OUT = "move_out"


ReviewKind._labels = {  # type: ignore[attr-defined]
    "registration": ("新登记", "Registration"),
    "move_out": ("迁出", "Move-out"),
}


class ReviewStatus(Labelled):
    PENDING = "pending"
    APPROVED = "approved"
    RETURNED = "returned"


ReviewStatus._labels = {  # type: ignore[attr-defined]
    "pending": ("待审核", "Pending review"),
    "approved": ("审核通过", "Approved"),
    "returned": ("已退回", "Returned"),
}

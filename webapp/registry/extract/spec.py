"""The extract's four shapes: their columns, Chinese headers, kinds and limits."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from webapp.models.enums import HouseUse, PersonCategory, PhoneStatus, Relation, UnitKind
from webapp.validation import IdType

ShapeName = Literal["houses", "units", "persons", "residencies"]

COMMENT = "#"
NOTE_SHEET = "说明"
# Excel runs a cell starting with one of these as a formula; exports prefix them with "'".


@dataclass(frozen=True)
class Column:
    """One column of a shape: its English key (= model field where there is one) and header."""

    key: str
    zh: str
    kind: Literal["text", "int", "float", "date", "enum", "id", "phone", "landline", "region", "uscc"] = "text"
    required: bool = False
    max_len: int | None = None
    choices: Callable[[str], list[tuple[str, str]]] | None = None  # Enum.choices(lang)
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Shape:
    key: ShapeName
    zh: str
    en: str
    columns: tuple[Column, ...]
    sheet_aliases: tuple[str, ...] = ()

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def sheet_names(self) -> set[str]:
        return {self.key, self.zh, self.en.lower(), *self.sheet_aliases}


HOUSES = Shape("houses", "房屋", "Houses", (
    Column("external_code", "外部编码", required=True, max_len=40),
    Column("road", "路", required=True, max_len=64),
    Column("number", "门牌号", required=True, max_len=16),
    Column("building", "楼号", max_len=16),
    Column("unit", "单元", max_len=16),
    Column("floor", "楼层", "int", low=-10, high=200),
    Column("room", "室", max_len=16),
    # WGS-84 within China's extent: anything else is a projected or swapped coordinate.
    Column("lon", "经度", "float", low=73, high=136),
    Column("lat", "纬度", "float", low=3, high=54),
    Column("use", "用途", "enum", choices=HouseUse.choices),
    Column("floor_area", "建筑面积", "float", low=0, high=100_000),
    Column("living_area", "居住面积", "float", low=0, high=100_000),
), ("实有房屋",))

PERSONS = Shape("persons", "人口", "Persons", (
    Column("id_type", "证件类型", "enum", choices=IdType.choices),
    Column("id_number", "证件号码", "id", required=True, max_len=32),
    Column("name", "姓名", required=True, max_len=64),
    Column("phone", "手机", "phone", max_len=20),
    Column("landline", "固定电话", "landline", max_len=20),
    Column("phone_status", "无电话原因", "enum", choices=PhoneStatus.choices),
    Column("category", "人员类别", "enum", choices=PersonCategory.choices),
    # The structured hukou address: a current county code (GB/T 2260), then the parts.
    Column("hukou_region", "户籍区县代码", "region", max_len=6),
    Column("hukou_road", "户籍路名", max_len=64),
    Column("hukou_number", "户籍门牌号", max_len=16),
    Column("hukou_building", "户籍楼号", max_len=16),
    Column("hukou_room", "户籍室号", max_len=16),
    Column("hukou_address", "户籍地址", max_len=200),
    Column("permit_number", "居住证号", max_len=32),
    Column("permit_issued", "居住证签发日期", "date"),
    Column("permit_expiry", "居住证有效期", "date"),
    Column("permit_endorsed_on", "居住证签注日期", "date"),
    Column("employer_unit_code", "工作单位编码", max_len=40),
), ("实有人口",))

UNITS = Shape("units", "单位", "Units", (
    Column("external_code", "单位编码", required=True, max_len=40),
    Column("name", "单位名称", required=True, max_len=100),
    Column("uscc", "统一社会信用代码", "uscc", max_len=18),
    Column("kind", "单位类型", "enum", choices=UnitKind.choices),
    Column("house_external_code", "房屋外部编码", max_len=40),
), ("实有单位",))

RESIDENCIES = Shape("residencies", "居住", "Residencies", (
    Column("id_number", "证件号码", "id", required=True, max_len=32),
    Column("house_external_code", "房屋外部编码", required=True, max_len=40),
    Column("relation", "关系", "enum", choices=Relation.choices),
    Column("start_date", "入住日期", "date", required=True),
    Column("end_date", "迁出日期", "date"),
), ("居住信息", "人房关系"))

SHAPES: dict[str, Shape] = {s.key: s for s in (HOUSES, UNITS, PERSONS, RESIDENCIES)}
# Units after houses (a unit is at a house), persons after units (their employer).
ORDER: tuple[ShapeName, ...] = ("houses", "units", "persons", "residencies")

# Columns the database cannot hold empty: a blank cell keeps what is there (or the default).
_NOT_NULL = {"use", "category", "id_type", "relation", "kind"}

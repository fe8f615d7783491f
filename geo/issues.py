"""Problems found in cell data, each with where it is, in Chinese and English."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ERROR, WARNING = "error", "warning"

# kind: (severity, Chinese, English); messages may use {detail}.
KINDS: dict[str, tuple[str, str, str]] = {
    "not_json": (ERROR, "文件不是有效的 JSON：{detail}", "The file is not valid JSON: {detail}"),
    "not_feature_collection": (ERROR, "顶层必须是 GeoJSON FeatureCollection", "The top level must be a GeoJSON FeatureCollection"),
    "crs_not_wgs84": (ERROR, "坐标系必须是 WGS-84 经纬度（RFC 7946）：{detail}", "Coordinates must be WGS-84 lon/lat (RFC 7946): {detail}"),
    "not_feature": (ERROR, "要素不是 GeoJSON Feature", "The item is not a GeoJSON Feature"),
    "missing_property": (ERROR, "缺少属性 {detail}", "Missing property {detail}"),
    "bad_property": (ERROR, "属性无效：{detail}", "Invalid property: {detail}"),
    "duplicate_code": (ERROR, "网格编码重复（同第 {detail} 个要素）", "Duplicate cell code (same as feature {detail})"),
    "committee_name_conflict": (ERROR, "同一居委会编码有不同名称：{detail}", "One committee code with different names: {detail}"),
    "committee_name_required": (ERROR, "新居委会 {detail} 需要 committee_name", "New committee {detail} needs committee_name"),
    "unknown_user": (ERROR, "找不到用户 {detail}", "Unknown user {detail}"),
    "wrong_role": (ERROR, "用户角色不符：{detail}", "User has the wrong role: {detail}"),
    "no_geometry": (WARNING, "网格没有边界，无法按位置分配房屋", "Cell without boundary: houses cannot be placed in it by location"),
    "not_polygon": (ERROR, "几何类型必须是 Polygon，而不是 {detail}", "Geometry must be a Polygon, not {detail}"),
    "bad_coordinates": (ERROR, "坐标格式错误：{detail}", "Malformed coordinates: {detail}"),
    "out_of_range": (ERROR, "坐标超出范围（经度 −180…180，纬度 −90…90）：{detail}", "Coordinate out of range (lon −180…180, lat −90…90): {detail}"),
    "ring_not_closed": (ERROR, "环未闭合（首尾坐标须相同）", "Ring not closed (first and last positions must be equal)"),
    "invalid_polygon": (ERROR, "多边形无效：{detail}", "Invalid polygon: {detail}"),
    "too_large": (ERROR, "网格面积过大：{detail}", "Cell too large: {detail}"),
    "overlap": (ERROR, "与网格 {detail} 重叠", "Overlaps cell {detail}"),
    "committee_gap": (ERROR, "居委会 {detail} 辖区内有未划入网格的空隙", "Gap inside committee {detail}'s area not covered by any cell"),
    "committee_split": (WARNING, "居委会 {detail} 的辖区分成互不相连的几块", "Committee {detail}'s area is in separate pieces"),
    "boundary_gap": (ERROR, "相邻居委会之间有空隙", "Gap between neighbouring committees"),
}


@dataclass(frozen=True)
class Issue:
    kind: str
    feature_index: int | None = None  # 0-based position in the file; None for a cell already stored
    cell_code: str | None = None
    detail: str = ""
    point: tuple[float, float] | None = None  # lon, lat: where to look
    bbox: tuple[float, float, float, float] | None = None  # min lon, min lat, max lon, max lat
    area_m2: float | None = None

    @property
    def severity(self) -> str:
        return KINDS[self.kind][0]

    @property
    def message_zh(self) -> str:
        return KINDS[self.kind][1].format(detail=self.detail)

    @property
    def message_en(self) -> str:
        return KINDS[self.kind][2].format(detail=self.detail)

    def where(self) -> str:
        """A short location for people: feature number, cell and coordinates."""
        parts = []
        if self.feature_index is not None:
            parts.append(f"#{self.feature_index}")
        if self.cell_code:
            parts.append(self.cell_code)
        if self.point:
            parts.append(f"({self.point[0]:.6f}, {self.point[1]:.6f})")
        if self.area_m2 is not None:
            parts.append(f"{self.area_m2:.1f} m²")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(severity=self.severity, message_zh=self.message_zh, message_en=self.message_en)
        return out

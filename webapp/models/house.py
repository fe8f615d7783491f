"""Actual housing (实有房屋): houses, their codes, rooms, flags and history."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.area import Cell
from webapp.models.base import Base, Synced


class House(Synced, Base):
    """A dwelling, identified by its UUID; every code on it is an alias (HouseCode)."""

    __tablename__ = "house"
    __table_args__ = (
        Index("ix_house_address", "road", "number", "building", "unit", "room"),
    )

    cell_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cell.id"), index=True, default=None)
    # True when a person placed the house in its cell by hand: re-assignment by geometry keeps it.
    cell_manual: Mapped[bool] = mapped_column(default=False)
    road: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(16))  # 门牌号, e.g. "88" or "88弄"
    building: Mapped[str | None] = mapped_column(String(16), default=None)  # 号楼/幢
    unit: Mapped[str | None] = mapped_column(String(16), default=None)  # 单元
    floor: Mapped[int | None] = mapped_column(default=None)
    room: Mapped[str | None] = mapped_column(String(16), default=None)  # 室
    lon: Mapped[float | None] = mapped_column(Float, default=None)
    lat: Mapped[float | None] = mapped_column(Float, default=None)
    use: Mapped[str] = mapped_column(String(20), default="owner_occupied")
    floor_area: Mapped[float | None] = mapped_column(Float, default=None)  # 建筑面积 m²
    living_area: Mapped[float | None] = mapped_column(Float, default=None)  # 居住面积 m²
    note: Mapped[str | None] = mapped_column(String(200), default=None)
    # The address as compared with hukou addresses (webapp/registry/address_keys.py keeps them).
    address_key: Mapped[str | None] = mapped_column(String(120), default=None)
    room_key: Mapped[str | None] = mapped_column(String(32), default=None)

    cell: Mapped[Cell | None] = relationship()
    codes: Mapped[list[HouseCode]] = relationship(back_populates="house", order_by="HouseCode.kind")
    rooms: Mapped[list[Room]] = relationship(back_populates="house", order_by="Room.name")
    flags: Mapped[list[HouseFlag]] = relationship(back_populates="house")
    events: Mapped[list[HouseEvent]] = relationship(
        back_populates="house", order_by="HouseEvent.at.desc()"
    )

    @property
    def address(self) -> str:
        """The address as written in Shanghai: road, number, building, unit, room."""
        parts = [self.road, f"{self.number}号" if self.number.isdigit() else self.number]
        if self.building:
            parts.append(f"{self.building}号楼" if self.building.isdigit() else self.building)
        if self.unit:
            parts.append(f"{self.unit}单元" if self.unit.isdigit() else self.unit)
        if self.room:
            parts.append(f"{self.room}室" if self.room.isdigit() else self.room)
        return "".join(parts)

    @property
    def plate_code(self) -> str | None:
        for code in self.codes:
            if code.kind == "plate" and code.deleted_at is None and code.retired_at is None:
                return code.code
        return None

    def live_flags(self) -> list[HouseFlag]:
        return [f for f in self.flags if f.deleted_at is None and f.cleared_at is None]


class HouseCode(Synced, Base):
    """A code that resolves to a house: our plate code, a field code, or an external one."""

    __tablename__ = "house_code"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("house.id"), index=True)
    # A retired code (old plate after re-plating) still resolves, to explain where it went.
    retired_at: Mapped[datetime | None] = mapped_column(default=None)

    house: Mapped[House] = relationship(back_populates="codes")


class Room(Synced, Base):
    __tablename__ = "room"

    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("house.id"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    # enums.RoomKind: partitioned rooms, basements and kitchens, bathrooms, balconies or storage
    # rooms let as rooms are what 群租 inspections look for (the group_rent rule).
    kind: Mapped[str] = mapped_column(String(20), default="bedroom", server_default="bedroom")
    living_area: Mapped[float | None] = mapped_column(Float, default=None)

    house: Mapped[House] = relationship(back_populates="rooms")


class HouseFlag(Synced, Base):
    __tablename__ = "house_flag"
    __table_args__ = (
        # One open flag of a kind per house: a second report of it is the same flag.
        Index(
            "uq_house_flag_open",
            "house_id",
            "kind",
            unique=True,
            sqlite_where=text("cleared_at IS NULL AND deleted_at IS NULL"),
            postgresql_where=text("cleared_at IS NULL AND deleted_at IS NULL"),
        ),
    )

    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("house.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(200), default=None)
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    raised_at: Mapped[datetime | None] = mapped_column(default=None)
    cleared_at: Mapped[datetime | None] = mapped_column(default=None)

    house: Mapped[House] = relationship(back_populates="flags")


class HouseEvent(Synced, Base):
    """What happened to a house: split into rooms or flats, merged, demolished, re-plated."""

    __tablename__ = "house_event"

    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("house.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column()
    # Houses on the other side of a split or merge, as UUID strings.
    related_house_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    house: Mapped[House] = relationship(back_populates="events")

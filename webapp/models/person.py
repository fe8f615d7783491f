"""Actual population (实有人口) and where they live (residency)."""
from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.base import Base, Synced, optional_reference
from webapp.models.house import House, Room

_LIVE = "deleted_at IS NULL"
# A record held for the centre (`claims_id_of`) may share its number with the live person it claims.
_LIVE_UNHELD = "deleted_at IS NULL AND claims_id_of IS NULL"
_LIVE_HELD = "deleted_at IS NULL AND claims_id_of IS NOT NULL"
_OPEN = "end_date IS NULL AND deleted_at IS NULL"


class Person(Synced, Base):
    __tablename__ = "person"
    __table_args__ = (
        # One live person per ID number: a race between two workers becomes an
        # IntegrityError that sync turns into a merge or conflict, never a duplicate.
        Index(
            "uq_person_id_number_live",
            "id_number",
            unique=True,
            sqlite_where=text(_LIVE_UNHELD),
            postgresql_where=text(_LIVE_UNHELD),
        ),
        # Prefix searches (a name's first characters, an ID's or phone's last digits, via the
        # reversed copies) use these indexes; PostgreSQL needs pattern ops outside the C locale.
        # The held registrations by number (few): with the index above, a push finds every live
        # holder of its numbers by index (sync/state.py live_persons), never by a scan of persons.
        Index("ix_person_id_number_held", "id_number", sqlite_where=text(_LIVE_HELD),
              postgresql_where=text(_LIVE_HELD)),
        Index("ix_person_name", "name", postgresql_ops={"name": "varchar_pattern_ops"}),
        Index("ix_person_id_rev", "id_rev", postgresql_ops={"id_rev": "varchar_pattern_ops"}),
        Index("ix_person_phone_rev", "phone_rev", postgresql_ops={"phone_rev": "varchar_pattern_ops"}),
        optional_reference("person", "claims_id_of"),
        optional_reference("person", "employer_unit_id"),
    )

    # Personal columns are nullable so that a purged tombstone can keep only id and version.
    name: Mapped[str | None] = mapped_column(String(64))
    id_type: Mapped[str] = mapped_column(String(20), default="resident")
    id_number: Mapped[str | None] = mapped_column(String(32), default=None)
    # Reversed copies let "the last digits" searches use an ordinary b-tree index.
    id_rev: Mapped[str | None] = mapped_column(String(32), default=None)
    sex: Mapped[str | None] = mapped_column(String(1), default=None)
    birth_date: Mapped[date | None] = mapped_column(default=None)
    phone: Mapped[str | None] = mapped_column(String(20), default=None)  # mainland mobile
    phone_rev: Mapped[str | None] = mapped_column(String(20), default=None)
    # A fixed line as "021-62345678" (elderly residents often have only one).
    landline: Mapped[str | None] = mapped_column(String(20), default=None)
    # Why there is no number: enums.PhoneStatus ("none" 无电话, "refused" 拒绝提供). Either is an
    # answer the coordinator got at the door, so the record counts as complete.
    phone_status: Mapped[str | None] = mapped_column(String(12), default=None)
    category: Mapped[str] = mapped_column(String(12), default="migrant")
    hukou_region: Mapped[str | None] = mapped_column(String(6), default=None)  # GB/T 2260 code
    # Registered (hukou) address, structured so 人户分离 compares at house or building level.
    hukou_road: Mapped[str | None] = mapped_column(String(64), default=None)
    hukou_number: Mapped[str | None] = mapped_column(String(16), default=None)
    hukou_building: Mapped[str | None] = mapped_column(String(16), default=None)
    hukou_room: Mapped[str | None] = mapped_column(String(16), default=None)
    hukou_address: Mapped[str | None] = mapped_column(String(200), default=None)
    # The structured hukou address as compared (webapp/registry/address.py `place_keys`): kept
    # by webapp/registry/address_keys.py at every commit, whatever wrote the row. Never shown.
    hukou_key: Mapped[str | None] = mapped_column(String(120), default=None)
    hukou_room_key: Mapped[str | None] = mapped_column(String(32), default=None)
    permit_number: Mapped[str | None] = mapped_column(String(32), default=None)
    # The residence permit's issue date and expiry (its validity); the yearly endorsement
    # (签注) last recorded and who recorded it. Past endorsements are the change log's versions.
    permit_issued: Mapped[date | None] = mapped_column(default=None)
    permit_expiry: Mapped[date | None] = mapped_column(default=None)
    permit_endorsed_on: Mapped[date | None] = mapped_column(default=None)
    permit_endorsed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    employer_unit_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("unit.id", use_alter=True), default=None
    )
    note: Mapped[str | None] = mapped_column(String(200), default=None)
    # A phone registered this person with the ID number of someone living outside its cells:
    # the record stands as typed (the phone learns nothing) and waits for the centre, who
    # combines the two (a move-in) or corrects the number. Server-side only, never pulled.
    claims_id_of: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"), default=None)

    residencies: Mapped[list[Residency]] = relationship(
        back_populates="person", order_by="Residency.start_date.desc()"
    )

    def set_id_number(self, number: str | None) -> None:
        self.id_number = number
        self.id_rev = number[::-1] if number else None

    def set_phone(self, phone: str | None) -> None:
        self.phone = phone
        self.phone_rev = phone[::-1] if phone else None

    def current_residency(self) -> Residency | None:
        for r in self.residencies:
            if r.end_date is None and r.deleted_at is None:
                return r
        return None


class Residency(Synced, Base):
    """A person living in a house (and room), from/to, with their relation to it."""

    __tablename__ = "residency"
    __table_args__ = (
        # At most one open residency per person; moving house ends the old one first.
        Index(
            "uq_residency_open_person",
            "person_id",
            unique=True,
            sqlite_where=text(_OPEN),
            postgresql_where=text(_OPEN),
        ),
        optional_reference("residency", "room_id"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("house.id"), index=True)
    room_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("room.id"), default=None)
    relation: Mapped[str] = mapped_column(String(12), default="tenant")
    # Members of one household share this id, so family is known as family (群租 rule).
    household_id: Mapped[uuid.UUID | None] = mapped_column(default=None, index=True)
    start_date: Mapped[date] = mapped_column()
    end_date: Mapped[date | None] = mapped_column(default=None)
    end_reason: Mapped[str | None] = mapped_column(String(100), default=None)
    source: Mapped[str] = mapped_column(String(12), default="console")

    person: Mapped[Person] = relationship(back_populates="residencies")
    house: Mapped[House] = relationship()
    room: Mapped[Room | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.end_date is None and self.deleted_at is None

"""The registry's models: plain SQLAlchemy 2 typed mappings, no Flask."""
from webapp.models.area import Cell, Committee, cell_coordinator
from webapp.models.audit import AuditEntry
from webapp.models.base import Base, Synced, UTCDateTime
from webapp.models.campaign import Campaign, campaign_cell
from webapp.models.changes import ChangeCounter, ScopeChange
from webapp.models.coverage import CoverageSnapshot as CoverageSnapshot
from webapp.models.cycle import Cycle
from webapp.models.grading import CoordinatorSnapshot, GradeSnapshot
from webapp.models.history import RecordVersion
from webapp.models.house import House, HouseCode, HouseEvent, HouseFlag, Room
from webapp.models.person import Person, Residency
from webapp.models.ratelimit import LoginFailure, RateCounter
from webapp.models.residence import ResidenceCheck
from webapp.models.review import Review
from webapp.models.sync import Conflict, Device, RecordAlias, SyncMutation, SyncProtocol
from webapp.models.task import Task
from webapp.models.unit import Unit
from webapp.models.unit_figures import UnitFigures
from webapp.models.user import User
from webapp.models.visit import Visit

# Tables whose rows travel to phones, in an order that respects foreign keys.
SYNCED_MODELS = (Committee, Cell, House, HouseCode, Room, HouseFlag, HouseEvent, Unit, Person, Residency, Visit, Task, Review)

__all__ = [
    "AuditEntry", "Base", "Campaign", "ChangeCounter", "CoordinatorSnapshot", "RecordVersion", "ScopeChange", "Cell", "Committee", "Conflict", "Cycle", "Device", "GradeSnapshot", "House", "HouseCode", "HouseEvent", "HouseFlag",
    "LoginFailure", "Person", "RateCounter", "RecordAlias", "ResidenceCheck", "Review", "SyncMutation", "SyncProtocol", "Residency", "Room", "SYNCED_MODELS", "Synced", "Task", "UTCDateTime", "Unit", "UnitFigures", "User",
    "Visit", "campaign_cell", "cell_coordinator",
]


def _sequence_indexes() -> None:
    """Per synced table: pulls read by `seq`; the commit stamps rows WHERE seq IS NULL."""
    from typing import cast

    from sqlalchemy import Index, Table, text

    for model in SYNCED_MODELS:
        # A declarative model with a __tablename__ maps a Table; Base types it as FromClause.
        table = cast(Table, model.__table__)
        Index(f"ix_{table.name}_seq", table.c.seq)
        Index(f"ix_{table.name}_unstamped", table.c.id, sqlite_where=text("seq IS NULL"),
              postgresql_where=text("seq IS NULL"))


_sequence_indexes()

"""The registry's models: plain SQLAlchemy 2 typed mappings, no Flask."""
from webapp.models.area import Cell, Committee, cell_coordinator
from webapp.models.audit import AuditEntry
from webapp.models.base import Base, Synced, UTCDateTime
from webapp.models.cycle import Cycle
from webapp.models.house import House, HouseCode, HouseEvent, HouseFlag, Room
from webapp.models.person import Person, Residency
from webapp.models.sync import Conflict, Device
from webapp.models.unit import Unit
from webapp.models.user import User
from webapp.models.visit import Visit

# Tables whose rows travel to phones, in an order that respects foreign keys.
SYNCED_MODELS = (Committee, Cell, House, HouseCode, Room, HouseFlag, HouseEvent, Unit, Person, Residency, Visit)

__all__ = [
    "AuditEntry", "Base", "Cell", "Committee", "Conflict", "Cycle", "Device", "House", "HouseCode", "HouseEvent", "HouseFlag",
    "Person", "Residency", "Room", "SYNCED_MODELS", "Synced", "UTCDateTime", "Unit", "User",
    "Visit", "cell_coordinator",
]

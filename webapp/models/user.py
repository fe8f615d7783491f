"""Console and field-app users. Users are not synced to phones."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base
from webapp.base.timeutil import utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(20))  # enums.Role
    # Set for the committee role: the committee whose cells the user sees; for a community
    # reporter (enums.Role.REPORTER): the committee whose houses they report on; for a
    # coordinator or grid lead: the committee that manages the login (/admin/users) and
    # whose cells it may be given. Scope never reads it for those two (their cells do).
    committee_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("committee.id", use_alter=True), default=None
    )
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(10), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Console sessions carry the generation they were opened under; bumping it (logout,
    # password change or reset, deactivation) ends every session of the user at once, on
    # every worker, although the sessions themselves are signed cookies (webapp/auth/sessions.py).
    session_generation: Mapped[int] = mapped_column(default=0)
    # Set by the centre's password reset: until the user chooses their own password, every
    # console page sends them to /account, and no phone can be registered with the temporary one.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    password_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)

    # Flask-Login's protocol, written out so that this module does not import Flask.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

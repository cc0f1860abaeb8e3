"""Keys that let a program (a dashboard, the ministry's portal, a bulk tool) use the API with a role."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventreg.db import Base

from .accounts import User
from .common import UTCDateTime, utcnow


class ApiKey(Base):
    """Only the SHA-256 of the key is stored; the key itself is shown once, when it is created.

    A key acts with its own role (never more than an admin chose) on behalf of the admin who created it,
    so what it writes is recorded under a person; revoking it stops it at once.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, to recognise a key in a list
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User] = relationship()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

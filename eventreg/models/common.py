"""Column types and helpers shared by every model."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite forgets the zone; we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Per-language texts ({"ru": "...", "ky": "...", "en": "..."}); JSONB on PostgreSQL.
LocalizedJSON = JSON().with_variant(JSONB(), "postgresql")


class StrEnum(enum.StrEnum):
    """Enum stored as its plain string value, so new values need no database migration.

    A member may carry its translated label (`CONFIRMED = "confirmed", _l("Confirmed")`): the code and
    the words people read have one source, the way Indico's enums carry `__titles__`.
    """

    def __new__(cls, value: str, label=None):
        member = str.__new__(cls, value)
        member._value_ = value
        member._label = label
        return member

    @property
    def label(self) -> str:
        return str(self._label) if self._label is not None else self.value

    @classmethod
    def labels(cls) -> dict[str, object]:
        """{code: lazy label} in declaration order, for select fields and templates."""
        return {member.value: member._label or member.value for member in cls}


LabelledEnum = StrEnum


def current_notice_version() -> str:
    """Default for consent_notice_version columns: the privacy notice in force now."""
    from eventreg.privacy.notice import PRIVACY_NOTICE_VERSION

    return PRIVACY_NOTICE_VERSION

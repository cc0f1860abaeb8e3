"""Consultations, their sessions, and registrations for them."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventreg.db import Base

from .common import LocalizedJSON, StrEnum, UTCDateTime, current_notice_version, utcnow


class SessionKind(StrEnum):
    WORKING_GROUP = "working_group", _l("Working-group meeting")
    REGIONAL = "regional", _l("Regional consultation")
    CIVIL_SOCIETY = "civil_society", _l("Civil-society consultation")
    ONLINE = "online", _l("Online session")


class SessionStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class RegistrationStatus(StrEnum):
    CONFIRMED = "confirmed", _l("Confirmed")
    # A place kept for someone until they open the link in their e-mail (sessions that ask for it).
    HELD = "held", _l("Place held until confirmed by e-mail")
    WAITLISTED = "waitlisted", _l("On the waiting list")
    CANCELLED = "cancelled", _l("Cancelled")


class Sex(StrEnum):
    FEMALE = "female", _l("Female")
    MALE = "male", _l("Male")
    UNDISCLOSED = "undisclosed", _l("Prefer not to say")


class Consultation(Base):
    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[dict] = mapped_column(LocalizedJSON)
    description: Mapped[dict] = mapped_column(LocalizedJSON, default=dict)
    comments_open_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comments_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Names and contacts removed after the consultation ended (flask privacy anonymise).
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sessions: Mapped[list[EventSession]] = relationship(
        back_populates="consultation", order_by="EventSession.starts_at"
    )

    def comments_open(self, now: datetime) -> bool:
        if self.comments_open_at is None or self.comments_close_at is None:
            return False
        return self.comments_open_at <= now < self.comments_close_at


class EventSession(Base):
    """One session people register for: a working-group meeting, a regional or online consultation."""

    __tablename__ = "event_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default=SessionKind.REGIONAL.value)
    region: Mapped[str | None] = mapped_column(String(8))  # ISO 3166-2:KG code
    title: Mapped[dict] = mapped_column(LocalizedJSON)
    description: Mapped[dict] = mapped_column(LocalizedJSON, default=dict)
    venue: Mapped[dict] = mapped_column(LocalizedJSON, default=dict)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    languages: Mapped[list] = mapped_column(LocalizedJSON, default=list)  # e.g. ["ru", "ky"]
    capacity: Mapped[int] = mapped_column(Integer)
    waitlist_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Hold each new place until the person confirms it from their e-mail; unconfirmed holds expire and the
    # place goes to the waiting list. Off by default; worth it for sessions with few places.
    hold_places: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    hold_hours: Mapped[int] = mapped_column(Integer, default=4, server_default=text("4"))
    registration_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default=SessionStatus.PUBLISHED.value)
    online_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    consultation: Mapped[Consultation] = relationship(back_populates="sessions")
    registrations: Mapped[list[Registration]] = relationship(back_populates="session")

    @property
    def is_cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED

    def registration_open(self, now: datetime) -> bool:
        if self.status != SessionStatus.PUBLISHED:
            return False
        deadline = self.registration_deadline or self.starts_at
        return now < deadline


class Registration(Base):
    __tablename__ = "registrations"
    __table_args__ = (
        # One live registration per person and session; a cancelled one does not block registering again.
        Index(
            "uq_registrations_live_email",
            "session_id",
            "email_normalized",
            unique=True,
            sqlite_where=text("status != 'cancelled'"),
            postgresql_where=text("status != 'cancelled'"),
        ),
        Index("ix_registrations_session_status", "session_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("event_sessions.id"))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    email_normalized: Mapped[str] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    organisation: Mapped[str] = mapped_column(String(300))
    position: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(40))
    region: Mapped[str] = mapped_column(String(8))
    sex: Mapped[str] = mapped_column(String(20))
    interpretation_language: Mapped[str] = mapped_column(String(8))
    accessibility_needs: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(8))  # language the person used; mail goes out in it
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The privacy notice in force when consent was given (set on insert: consent is given when registering).
    consent_notice_version: Mapped[str | None] = mapped_column(String(20), default=current_notice_version)
    # Name and contacts erased (by the person, or when the consultation was anonymised).
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(20), default="online")  # online / walk_in / organiser

    session: Mapped[EventSession] = relationship(back_populates="registrations")

"""Running sessions: create, edit, publish, cancel, copy; and the organiser's view of registrations.

Every change is written to the audit log in the same transaction as the change itself. Changes that
can move people between the waiting list and confirmed places take the session's write lock, like
registration does (see eventreg.registration.services).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from eventreg import audit
from eventreg.db import checks_done, lock_one, require_unit_of_work
from eventreg.mail import notify
from eventreg.models import (
    Consultation,
    EventSession,
    Registration,
    RegistrationStatus,
    SessionStatus,
    User,
    utcnow,
)
from eventreg.registration import availability
from eventreg.registration.links import personal_link
from eventreg.registration.services import promote_from_waitlist


class SessionError(Exception):
    """A change to a session that cannot be made; the view turns it into a message."""


class SessionNotFound(SessionError):
    pass


class SessionCancelled(SessionError):
    """A cancelled session stays as it was: it can be copied, not edited or published again."""


class CapacityBelowConfirmed(SessionError):
    def __init__(self, confirmed: int):
        super().__init__(f"{confirmed} places are already confirmed")
        self.confirmed = confirmed


def bishkek() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def from_local(value: datetime | None) -> datetime | None:
    """A wall-clock time typed in Bishkek, as the UTC instant we store."""
    if value is None:
        return None
    return value.replace(tzinfo=bishkek()).astimezone(UTC)


def to_local_naive(value: datetime | None) -> datetime | None:
    """A stored UTC instant as the Bishkek wall-clock time an organiser edits."""
    if value is None:
        return None
    return value.astimezone(bishkek()).replace(tzinfo=None)


@dataclass
class SessionData:
    consultation_id: int
    kind: str
    title: dict[str, str]
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    capacity: int
    region: str | None = None
    description: dict[str, str] = field(default_factory=dict)
    venue: dict[str, str] = field(default_factory=dict)
    registration_deadline: datetime | None = None
    waitlist_enabled: bool = True
    hold_places: bool = False
    hold_hours: int = 4
    languages: list[str] = field(default_factory=list)
    online_url: str | None = None


# Changing any of these means registrants must be told: they may no longer be able to come.
_LOGISTICS = ("starts_at", "ends_at", "venue", "online_url")


def _slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:50]


def _unique_slug(session: Session, data: SessionData) -> str:
    base = _slugify(data.title.get("en", "")) or "-".join(
        filter(None, [data.kind, (data.region or "").lower()])
    )
    base = _slugify(base) or "session"
    slug = base
    while session.scalar(select(EventSession.id).where(EventSession.slug == slug)) is not None:
        slug = f"{base}-{secrets.token_hex(2)}"
    return slug


def _apply(event_session: EventSession, data: SessionData) -> None:
    event_session.consultation_id = data.consultation_id
    event_session.kind = data.kind
    event_session.region = data.region or None
    event_session.title = dict(data.title)
    event_session.description = dict(data.description)
    event_session.venue = dict(data.venue)
    event_session.starts_at = data.starts_at
    event_session.ends_at = data.ends_at
    event_session.registration_deadline = data.registration_deadline
    event_session.capacity = data.capacity
    event_session.waitlist_enabled = data.waitlist_enabled
    event_session.hold_places = data.hold_places
    event_session.hold_hours = data.hold_hours
    event_session.languages = list(data.languages)
    event_session.online_url = data.online_url or None


def _lock(session: Session, event_session_id: int) -> EventSession:
    event_session = lock_one(session, EventSession, event_session_id)
    if event_session is None:
        raise SessionNotFound(event_session_id)
    return event_session


def _live_registrations(session: Session, event_session_id: int) -> list[Registration]:
    return list(
        session.scalars(
            select(Registration)
            .where(
                Registration.session_id == event_session_id,
                Registration.status != RegistrationStatus.CANCELLED,
            )
            .order_by(Registration.id)
        )
    )


def data_from_session(event_session: EventSession) -> SessionData:
    return SessionData(
        consultation_id=event_session.consultation_id,
        kind=event_session.kind,
        title=dict(event_session.title or {}),
        starts_at=event_session.starts_at,
        ends_at=event_session.ends_at,
        capacity=event_session.capacity,
        region=event_session.region,
        description=dict(event_session.description or {}),
        venue=dict(event_session.venue or {}),
        registration_deadline=event_session.registration_deadline,
        waitlist_enabled=event_session.waitlist_enabled,
        hold_places=bool(event_session.hold_places),
        hold_hours=event_session.hold_hours or 4,
        languages=list(event_session.languages or []),
        online_url=event_session.online_url,
    )


def create_session(session: Session, data: SessionData, *, by: User | None) -> EventSession:
    """A new session, as a draft: nobody sees it until it is published."""
    require_unit_of_work(session)
    event_session = EventSession(slug=_unique_slug(session, data), status=SessionStatus.DRAFT.value)
    _apply(event_session, data)
    session.add(event_session)
    session.flush()
    audit.record(session, by, "session.create", event_session, slug=event_session.slug)
    session.flush()
    return event_session


@dataclass
class UpdateResult:
    event_session: EventSession
    notified: int
    promoted: int


def update_session(
    session: Session,
    event_session_id: int,
    data: SessionData,
    *,
    by: User | None,
    now: datetime | None = None,
) -> UpdateResult:
    """Save an edit. Registrants hear about a new time or place; more places go to the waiting list."""
    now = now or utcnow()
    event_session = _lock(session, event_session_id)
    if event_session.is_cancelled:
        raise SessionCancelled()
    confirmed = availability.for_session(session, event_session, now).confirmed
    if data.capacity < confirmed:
        # Taking places away from confirmed people is a decision per person (change their status).
        raise CapacityBelowConfirmed(confirmed)
    checks_done(session)
    before = data_from_session(event_session)
    _apply(event_session, data)
    event_session.updated_at = now
    session.flush()
    changed = [
        name for name in SessionData.__dataclass_fields__ if getattr(before, name) != getattr(data, name)
    ]
    notified = 0
    if any(name in _LOGISTICS for name in changed):
        for registration in _live_registrations(session, event_session.id):
            notify.session_changed(session, registration, link=personal_link(registration))
            notified += 1
    promoted = promote_from_waitlist(session, event_session, now) if data.capacity > before.capacity else []
    audit.record(
        session,
        by,
        "session.edit",
        event_session,
        changed=changed,
        notified=notified,
        promoted=[r.id for r in promoted],
    )
    session.flush()
    return UpdateResult(event_session, notified, len(promoted))


def publish_session(session: Session, event_session_id: int, *, by: User | None) -> EventSession:
    event_session = _lock(session, event_session_id)
    if event_session.is_cancelled:
        raise SessionCancelled()
    if event_session.status != SessionStatus.PUBLISHED:
        event_session.status = SessionStatus.PUBLISHED.value
        audit.record(session, by, "session.publish", event_session)
    session.flush()
    return event_session


def cancel_session(session: Session, event_session_id: int, *, by: User | None) -> int:
    """Cancel a session and tell everyone registered or waiting. Returns how many were told.

    Registrations keep their status, so the record of who had signed up stays intact.
    """
    event_session = _lock(session, event_session_id)
    if event_session.is_cancelled:
        return 0
    checks_done(session)
    event_session.status = SessionStatus.CANCELLED.value
    registrations = _live_registrations(session, event_session.id)
    for registration in registrations:
        notify.session_cancelled(session, registration, link=personal_link(registration))
    audit.record(session, by, "session.cancel", event_session, notified=len(registrations))
    session.flush()
    return len(registrations)


def copy_session(
    session: Session,
    event_session_id: int,
    *,
    region: str | None = None,
    starts_at: datetime | None = None,
    by: User | None,
) -> EventSession:
    """A draft copy (e.g. the same regional consultation for another oblast), with no registrations.

    A new start moves the end and the deadline by the same amount, so the copy stays consistent.
    """
    source = _lock(session, event_session_id)
    data = data_from_session(source)
    if region:
        data.region = region
    if starts_at is not None:
        shift: timedelta = starts_at - source.starts_at
        data = replace(
            data,
            starts_at=starts_at,
            ends_at=source.ends_at + shift,
            registration_deadline=source.registration_deadline + shift
            if source.registration_deadline
            else None,
        )
    copy = EventSession(slug=_unique_slug(session, data), status=SessionStatus.DRAFT.value)
    _apply(copy, data)
    session.add(copy)
    session.flush()
    audit.record(session, by, "session.copy", copy, source=source.id, region=copy.region)
    session.flush()
    return copy


# --- consultations ---------------------------------------------------------------------------------


class ConsultationError(Exception):
    """A change to a consultation that cannot be made; the view turns it into a message."""


class SlugTaken(ConsultationError):
    """Another consultation already has this address (the slug is part of public links)."""


@dataclass
class ConsultationData:
    slug: str
    title: dict[str, str]
    description: dict[str, str] = field(default_factory=dict)
    comments_open_at: datetime | None = None  # UTC
    comments_close_at: datetime | None = None  # UTC


def _slug_taken(session: Session, slug: str, *, other_than: int | None = None) -> bool:
    stmt = select(Consultation.id).where(Consultation.slug == slug)
    if other_than is not None:
        stmt = stmt.where(Consultation.id != other_than)
    return session.scalar(stmt) is not None


def _apply_consultation(consultation: Consultation, data: ConsultationData) -> None:
    consultation.slug = data.slug
    consultation.title = dict(data.title)
    consultation.description = dict(data.description)
    consultation.comments_open_at = data.comments_open_at
    consultation.comments_close_at = data.comments_close_at


def data_from_consultation(consultation: Consultation) -> ConsultationData:
    return ConsultationData(
        slug=consultation.slug,
        title=dict(consultation.title or {}),
        description=dict(consultation.description or {}),
        comments_open_at=consultation.comments_open_at,
        comments_close_at=consultation.comments_close_at,
    )


def create_consultation(session: Session, data: ConsultationData, *, by: User | None) -> Consultation:
    """A new consultation: sessions and draft documents are then added to it."""
    require_unit_of_work(session)
    if _slug_taken(session, data.slug):
        raise SlugTaken(data.slug)
    checks_done(session)
    consultation = Consultation()
    _apply_consultation(consultation, data)
    session.add(consultation)
    _flush_slug(session, data.slug)
    audit.record(session, by, "consultation.create", consultation, slug=consultation.slug)
    session.flush()
    return consultation


def _flush_slug(session: Session, slug: str) -> None:
    """Flush in a savepoint: PostgreSQL lets two organisers pass the slug check at once, and the unique
    index decides between them without breaking the rest of the unit of work."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise SlugTaken(slug) from exc


def update_consultation(
    session: Session, consultation_id: int, data: ConsultationData, *, by: User | None
) -> Consultation:
    consultation = lock_one(session, Consultation, consultation_id)
    if _slug_taken(session, data.slug, other_than=consultation_id):
        raise SlugTaken(data.slug)
    checks_done(session)
    before = data_from_consultation(consultation)
    _apply_consultation(consultation, data)
    _flush_slug(session, data.slug)
    changed = [
        name for name in ConsultationData.__dataclass_fields__ if getattr(before, name) != getattr(data, name)
    ]
    audit.record(session, by, "consultation.edit", consultation, changed=changed)
    session.flush()
    return consultation


# --- reading ---------------------------------------------------------------------------------------


def consultations(session: Session) -> list[Consultation]:
    return list(
        session.scalars(select(Consultation).order_by(Consultation.created_at.desc(), Consultation.id))
    )


def sessions_for_dashboard(
    session: Session, *, now: datetime, include_past: bool = False
) -> list[EventSession]:
    stmt = select(EventSession).order_by(EventSession.starts_at, EventSession.id)
    if not include_past:
        stmt = stmt.where(EventSession.ends_at >= now)
    return list(session.scalars(stmt))


def registration_counts(
    session: Session, event_session_ids: list[int]
) -> dict[int, availability.Availability]:
    """Confirmed, waiting and checked-in people per session, from the one availability module."""
    if not event_session_ids:
        return {}
    sessions = session.scalars(select(EventSession).where(EventSession.id.in_(event_session_ids))).all()
    return availability.for_sessions(session, sessions, utcnow())


@dataclass
class RegistrationFilter:
    status: str = ""
    sector: str = ""
    region: str = ""
    sex: str = ""
    q: str = ""


def find_registrations(
    session: Session, event_session_id: int, filters: RegistrationFilter
) -> list[Registration]:
    stmt = select(Registration).where(Registration.session_id == event_session_id)
    for name in ("status", "sector", "region", "sex"):
        value = getattr(filters, name)
        if value:
            stmt = stmt.where(getattr(Registration, name) == value)
    rows = list(session.scalars(stmt.order_by(Registration.created_at, Registration.id)))
    query = filters.q.strip().casefold()
    if query:
        # In Python rather than SQL: SQLite's LIKE and lower() fold only ASCII, and names here are
        # Cyrillic ("айгүл" must find "Айгүл"). A session has at most a few hundred registrations.
        rows = [r for r in rows if query in r.full_name.casefold() or query in r.organisation.casefold()]
    return rows

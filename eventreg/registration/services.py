"""Registration rules: who gets a place, who waits, and who moves up when a place frees.

`register_participant` is the only place that decides confirmed vs waitlisted. It decides under a
lock, in the same transaction as the insert: BEGIN IMMEDIATE on SQLite, SELECT ... FOR UPDATE on the
session row on PostgreSQL. Cancelling and promoting from the waiting list take the same lock.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from eventreg.db import write_transaction
from eventreg.mail import notify
from eventreg.models import EventSession, Registration, RegistrationStatus, utcnow


class RegistrationError(Exception):
    """A registration request that cannot be carried out; the view turns it into a message."""


class RegistrationClosed(RegistrationError):
    """Deadline passed, session cancelled or not published, or full without a waiting list."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "deadline", "cancelled", "not_published", "full"


class AlreadyRegistered(RegistrationError):
    def __init__(self, registration: Registration):
        super().__init__("already registered")
        self.registration = registration


class AlreadyCancelled(RegistrationError):
    pass


class SessionStarted(RegistrationError):
    """The session has begun: the participant can no longer change or cancel (an organiser still can)."""


@dataclass
class ParticipantDetails:
    full_name: str
    email: str
    organisation: str
    position: str
    sector: str
    region: str
    sex: str
    interpretation_language: str
    locale: str
    phone: str | None = None
    accessibility_needs: str | None = None


_SPACES = re.compile(r"\s+")


def normalise_email(email: str) -> str:
    """The form of an address used to recognise the same person: no spaces, lower case."""
    return _SPACES.sub("", email or "").lower()


def _apply_details(
    registration: Registration, details: ParticipantDetails, email: str, email_normalized: str
) -> None:
    """Copy what a person told us onto their registration, tidied (one place for every way in)."""
    registration.full_name = details.full_name.strip()
    registration.email = email
    registration.email_normalized = email_normalized
    registration.phone = (details.phone or "").strip() or None
    registration.organisation = details.organisation.strip()
    registration.position = details.position.strip()
    registration.sector = details.sector
    registration.region = details.region
    registration.sex = details.sex
    registration.interpretation_language = details.interpretation_language
    registration.accessibility_needs = (details.accessibility_needs or "").strip() or None
    registration.locale = details.locale


def new_token() -> str:
    # 256 random bits, URL-safe; never derived from ids or time.
    return secrets.token_urlsafe(32)


def confirmed_count(session: Session, event_session_id: int) -> int:
    return session.scalar(
        select(func.count(Registration.id)).where(
            Registration.session_id == event_session_id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
    )


def places_left(session: Session, event_session: EventSession) -> int:
    return max(event_session.capacity - confirmed_count(session, event_session.id), 0)


def waitlist_position(session: Session, registration: Registration) -> int | None:
    """1 for the next person to get a place; None when not on the waiting list."""
    if registration.status != RegistrationStatus.WAITLISTED:
        return None
    ahead = session.scalar(
        select(func.count(Registration.id)).where(
            Registration.session_id == registration.session_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            Registration.id < registration.id,
        )
    )
    return ahead + 1


def _lock_event_session(session: Session, event_session_id: int) -> EventSession:
    """Load the session row under the write lock (FOR UPDATE on PostgreSQL; SQLite is already locked)."""
    stmt = select(EventSession).where(EventSession.id == event_session_id).with_for_update()
    event_session = session.scalars(stmt.execution_options(populate_existing=True)).one()
    return event_session


def _check_open(event_session: EventSession, now: datetime) -> None:
    if event_session.status == "cancelled":
        raise RegistrationClosed("cancelled")
    if event_session.status != "published":
        raise RegistrationClosed("not_published")
    if not event_session.registration_open(now):
        raise RegistrationClosed("deadline")


def _find_live(session: Session, event_session_id: int, email_normalized: str) -> Registration | None:
    return session.scalars(
        select(Registration).where(
            Registration.session_id == event_session_id,
            Registration.email_normalized == email_normalized,
            Registration.status != RegistrationStatus.CANCELLED,
        )
    ).first()


def _status_for_new_registration(session: Session, event_session: EventSession) -> str:
    if confirmed_count(session, event_session.id) < event_session.capacity:
        return RegistrationStatus.CONFIRMED.value
    if event_session.waitlist_enabled:
        return RegistrationStatus.WAITLISTED.value
    raise RegistrationClosed("full")


def register_participant(
    session: Session,
    event_session_id: int,
    details: ParticipantDetails,
    *,
    now: datetime | None = None,
    source: str = "online",
) -> Registration:
    """Register a person for a session: confirmed while places last, then waitlisted.

    Raises RegistrationClosed, or AlreadyRegistered when the same e-mail already holds a live
    registration for this session. Nothing is stored when it raises.
    """
    now = now or utcnow()
    email_normalized = normalise_email(details.email)
    if current_app.config.get("TESTING_SKIP_CAPACITY_LOCK"):
        status = _decide_without_lock(session, event_session_id, email_normalized, now)
    else:
        status = None

    try:
        with write_transaction(session):
            event_session = _lock_event_session(session, event_session_id)
            if status is None:
                _check_open(event_session, now)
                existing = _find_live(session, event_session_id, email_normalized)
                if existing is not None:
                    raise AlreadyRegistered(existing)
                status = _status_for_new_registration(session, event_session)
            registration = Registration(
                session_id=event_session_id,
                token=new_token(),
                status=status,
                consent_at=now,
                source=source,
                created_at=now,
            )
            _apply_details(registration, details, details.email.strip(), email_normalized)
            session.add(registration)
            session.flush()
            if status == RegistrationStatus.CONFIRMED:
                notify.registration_confirmed(session, registration)
            else:
                notify.registration_waitlisted(session, registration)
    except IntegrityError:
        # A second request for the same e-mail raced this one; the unique index kept one of them.
        existing = _find_live(session, event_session_id, email_normalized)
        if existing is None:
            raise
        raise AlreadyRegistered(existing) from None
    return registration


def _decide_without_lock(
    session: Session, event_session_id: int, email_normalized: str, now: datetime
) -> str:
    """Test-only: the check-then-insert a naive system does, so the concurrency test can oversell.

    The decision is read in its own transaction and the insert happens in another one later, which
    is exactly the gap the lock closes.
    """
    event_session = session.get(EventSession, event_session_id)
    _check_open(event_session, now)
    existing = _find_live(session, event_session_id, email_normalized)
    if existing is not None:
        raise AlreadyRegistered(existing)
    status = _status_for_new_registration(session, event_session)
    session.commit()
    time.sleep(current_app.config.get("TESTING_RACE_WINDOW", 0.05))
    return status


def find_by_token(session: Session, token: str) -> Registration | None:
    if not token or len(token) > 64:
        return None
    return session.scalars(select(Registration).where(Registration.token == token)).first()


def promote_from_waitlist(session: Session, event_session: EventSession, now: datetime) -> list[Registration]:
    """Give free places to the oldest waitlisted people. Call inside the session's write lock."""
    if event_session.status != "published" or now >= event_session.starts_at:
        # Once the session has begun, a freed seat goes to whoever is at the door, not to a late e-mail.
        return []
    free = event_session.capacity - confirmed_count(session, event_session.id)
    if free <= 0:
        return []
    promoted = list(
        session.scalars(
            select(Registration)
            .where(
                Registration.session_id == event_session.id,
                Registration.status == RegistrationStatus.WAITLISTED,
            )
            .order_by(Registration.created_at, Registration.id)
            .limit(free)
            .with_for_update()
        )
    )
    for registration in promoted:
        registration.status = RegistrationStatus.CONFIRMED.value
        registration.promoted_at = now
        registration.updated_at = now
    session.flush()
    for registration in promoted:
        notify.registration_promoted(session, registration)
    return promoted


def cancel_registration(
    session: Session, registration_id: int, *, now: datetime | None = None
) -> tuple[Registration, list[Registration]]:
    """Cancel a registration and hand a freed place to the waiting list, in one transaction."""
    now = now or utcnow()
    event_session_id = session.scalar(
        select(Registration.session_id).where(Registration.id == registration_id)
    )
    with write_transaction(session):
        event_session = _lock_event_session(session, event_session_id)
        registration = session.get(Registration, registration_id, populate_existing=True)
        if registration.status == RegistrationStatus.CANCELLED:
            raise AlreadyCancelled()
        if now >= event_session.starts_at:
            raise SessionStarted()
        registration.status = RegistrationStatus.CANCELLED.value
        registration.cancelled_at = now
        registration.updated_at = now
        session.flush()
        notify.registration_cancelled(session, registration)
        promoted = promote_from_waitlist(session, event_session, now)
    return registration, promoted


def update_details(
    session: Session, registration_id: int, details: ParticipantDetails, *, now: datetime | None = None
) -> Registration:
    """Change a person's details; the status and place in the queue stay as they are."""
    now = now or utcnow()
    email_normalized = normalise_email(details.email)
    try:
        with write_transaction(session):
            registration = session.get(Registration, registration_id, populate_existing=True)
            if registration.status == RegistrationStatus.CANCELLED:
                raise AlreadyCancelled()
            if now >= registration.session.starts_at:
                raise SessionStarted()
            if email_normalized != registration.email_normalized:
                other = _find_live(session, registration.session_id, email_normalized)
                if other is not None and other.id != registration.id:
                    raise AlreadyRegistered(other)
            _apply_details(registration, details, details.email.strip(), email_normalized)
            registration.updated_at = now
            session.flush()
            notify.registration_changed(session, registration)
    except IntegrityError:
        raise AlreadyRegistered(registration) from None
    return registration


def request_link_again(session: Session, event_session_id: int, email: str) -> bool:
    """Send the personal link again to the address that registered; says nothing about others."""
    registration = _find_live(session, event_session_id, normalise_email(email))
    if registration is None:
        return False
    with write_transaction(session):
        notify.registration_link(session, registration)
    return True


# --- organiser actions on registrations (the organiser workspace calls these) -----------------------


class NoPlaceLeft(RegistrationError):
    """Confirming would go over capacity and the organiser did not say that is intended."""


class StatusChangeNotAllowed(RegistrationError):
    def __init__(self, old: str, new: str):
        super().__init__(f"{old} -> {new}")
        self.old = old
        self.new = new


class NotConfirmed(RegistrationError):
    """Only a confirmed registration can be checked in; a waitlisted one is confirmed first."""


def set_status_by_organiser(
    session: Session,
    registration_id: int,
    new_status: str,
    *,
    by,
    over_capacity: bool = False,
    now: datetime | None = None,
) -> tuple[Registration, list[Registration]]:
    """Change a status by hand, keeping the waiting-list rules.

    - cancelling frees a place, which goes to the waiting list as usual;
    - confirming (from the waiting list or a cancelled registration) needs a free place, unless the
      organiser explicitly confirms over capacity;
    - putting a cancelled registration back in the queue joins it at the end of the waiting list only
      when there is no place (otherwise it must be confirmed);
    - a confirmed person is not moved to the waiting list: that would free a place they themselves might
      be promoted into. Cancel instead.
    Returns the registration and anyone promoted.
    """
    from eventreg import audit  # local: this organiser section was appended without touching the imports

    now = now or utcnow()
    event_session_id = session.scalar(
        select(Registration.session_id).where(Registration.id == registration_id)
    )
    promoted: list[Registration] = []
    try:
        with write_transaction(session):
            event_session = _lock_event_session(session, event_session_id)
            registration = session.get(Registration, registration_id, populate_existing=True)
            old = registration.status
            if new_status == old:
                return registration, []
            if new_status == RegistrationStatus.CANCELLED:
                registration.status = RegistrationStatus.CANCELLED.value
                registration.cancelled_at = now
                session.flush()
                notify.registration_cancelled(session, registration)
                promoted = promote_from_waitlist(session, event_session, now)
            elif new_status == RegistrationStatus.CONFIRMED:
                full = confirmed_count(session, event_session.id) >= event_session.capacity
                if full and not over_capacity:
                    raise NoPlaceLeft()
                registration.status = RegistrationStatus.CONFIRMED.value
                registration.cancelled_at = None
                session.flush()
                if old == RegistrationStatus.WAITLISTED:
                    registration.promoted_at = now
                    notify.registration_promoted(session, registration)
                else:
                    notify.registration_confirmed(session, registration)
            elif new_status == RegistrationStatus.WAITLISTED and old == RegistrationStatus.CANCELLED:
                if confirmed_count(session, event_session.id) < event_session.capacity:
                    raise StatusChangeNotAllowed(old, new_status)
                registration.status = RegistrationStatus.WAITLISTED.value
                registration.cancelled_at = None
                # The end of the queue: the waiting list is ordered by when people joined it.
                registration.created_at = now
                session.flush()
                notify.registration_waitlisted(session, registration)
            else:
                raise StatusChangeNotAllowed(old, new_status)
            registration.updated_at = now
            audit.record(
                session,
                by,
                "registration.status",
                registration,
                old=old,
                new=new_status,
                over_capacity=bool(over_capacity and new_status == RegistrationStatus.CONFIRMED),
                promoted=[r.id for r in promoted],
            )
    except IntegrityError:
        # Reinstating a cancelled registration when the same person has registered again since.
        existing = _find_live(session, event_session_id, registration.email_normalized)
        if existing is None:
            raise
        raise AlreadyRegistered(existing) from None
    return registration, promoted


def check_in(
    session: Session, registration_id: int, *, by, undo: bool = False, now: datetime | None = None
) -> Registration:
    """Mark a confirmed participant as present at the door (or take the mark back after a mistake)."""
    from eventreg import audit

    now = now or utcnow()
    with write_transaction(session):
        registration = session.get(Registration, registration_id, populate_existing=True)
        if registration.status != RegistrationStatus.CONFIRMED:
            raise NotConfirmed()
        if undo:
            registration.checked_in_at = None
        elif registration.checked_in_at is None:  # a double tap keeps the first time
            registration.checked_in_at = now
        registration.updated_at = now
        audit.record(
            session, by, "registration.check_in_undo" if undo else "registration.check_in", registration
        )
    return registration


def register_walk_in(
    session: Session,
    event_session_id: int,
    details: ParticipantDetails,
    *,
    by,
    now: datetime | None = None,
) -> Registration:
    """Register someone who turned up at the door: confirmed and checked in at once.

    Not `register_participant`: walk-ins arrive after the registration deadline by nature, and they are
    in the room, so they take a seat even when the list is full (the people waiting are not there).
    The e-mail is optional; without one the person gets no mail, and a key unique to this registration
    stands in for the address so that two people without e-mail are never taken for the same person.
    """
    from eventreg import audit

    now = now or utcnow()
    email = (details.email or "").strip()
    token = new_token()
    email_normalized = normalise_email(email) if email else f"walk-in:{token[:32]}"
    try:
        with write_transaction(session):
            event_session = _lock_event_session(session, event_session_id)
            if event_session.status != "published":
                raise RegistrationClosed("cancelled" if event_session.is_cancelled else "not_published")
            if email:
                existing = _find_live(session, event_session_id, email_normalized)
                if existing is not None:
                    raise AlreadyRegistered(existing)
            registration = Registration(
                session_id=event_session_id,
                token=token,
                status=RegistrationStatus.CONFIRMED.value,
                consent_at=now,
                source="walk_in",
                created_at=now,
                checked_in_at=now,
            )
            _apply_details(registration, details, email, email_normalized)
            session.add(registration)
            session.flush()
            if email:
                notify.registration_confirmed(session, registration)
            audit.record(session, by, "registration.walk_in", registration, session_id=event_session_id)
    except IntegrityError:
        existing = _find_live(session, event_session_id, email_normalized)
        if existing is None:
            raise
        raise AlreadyRegistered(existing) from None
    return registration

"""Registration rules: who gets a place, who waits, and who moves up when a place frees.

Every function that changes a registration runs inside its caller's unit of work (eventreg.db): it
locks the session row (FOR UPDATE on PostgreSQL; the IMMEDIATE transaction on SQLite), re-reads what
it decides on under that lock, asks `availability` for places, writes and flushes. None commits.
Building a participant's personal link lives here too; mail is handed the link and the position.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from eventreg import audit
from eventreg.db import checks_done, lock_all, lock_one, require_unit_of_work
from eventreg.mail import notify
from eventreg.models import EventSession, Registration, RegistrationStatus, SessionStatus, User, utcnow
from eventreg.registration import availability
from eventreg.registration.availability import ClosedReason
from eventreg.registration.links import personal_link


class RegistrationError(Exception):
    """A registration request that cannot be carried out; the view turns it into a message."""


class RegistrationClosed(RegistrationError):
    """Deadline passed, session cancelled or not published, or full without a waiting list."""

    def __init__(self, reason: ClosedReason):
        super().__init__(reason.value)
        self.reason = reason


class AlreadyRegistered(RegistrationError):
    def __init__(self, registration: Registration):
        super().__init__("already registered")
        self.registration = registration


class AlreadyCancelled(RegistrationError):
    pass


class RegistrationNotFound(RegistrationError):
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


def find_by_token(session: Session, token: str) -> Registration | None:
    if not token or len(token) > 64:
        return None
    return session.scalars(select(Registration).where(Registration.token == token)).first()


waitlist_position = availability.waitlist_position


# --- locking -----------------------------------------------------------------------------------------


def _lock_event_session(session: Session, event_session_id: int) -> EventSession:
    """The session row under the write lock; every decision about its places starts here."""
    event_session = lock_one(session, EventSession, event_session_id)
    if event_session is None:
        raise RegistrationNotFound()
    return event_session


def _lock_registration(session: Session, registration_id: int) -> tuple[EventSession, Registration]:
    """A registration and its session, both locked, the session first (one lock order everywhere)."""
    require_unit_of_work(session)
    event_session_id = session.scalar(
        select(Registration.session_id).where(Registration.id == registration_id)
    )
    if event_session_id is None:
        raise RegistrationNotFound()
    event_session = _lock_event_session(session, event_session_id)
    registration = lock_one(session, Registration, registration_id)
    return event_session, registration


def _find_live(session: Session, event_session_id: int, email_normalized: str) -> Registration | None:
    return session.scalars(
        select(Registration).where(
            Registration.session_id == event_session_id,
            Registration.email_normalized == email_normalized,
            Registration.status != RegistrationStatus.CANCELLED,
        )
    ).first()


def _tell(session: Session, registration: Registration, *, promoted: bool = False) -> None:
    """Queue the message that says where a registration now stands (confirmed, held or waiting)."""
    if registration.status == RegistrationStatus.HELD:
        notify.registration_held(session, registration, link=personal_link(registration), promoted=promoted)
    elif registration.status == RegistrationStatus.CONFIRMED:
        notify.registration_confirmed(session, registration, link=personal_link(registration))
    elif registration.status == RegistrationStatus.WAITLISTED:
        notify.registration_waitlisted(
            session,
            registration,
            link=personal_link(registration),
            position=waitlist_position(session, registration),
        )


# --- participants -------------------------------------------------------------------------------------


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
    registration for this session. Nothing is written when it raises.
    """
    now = now or utcnow()
    email_normalized = normalise_email(details.email)
    event_session = _lock_event_session(session, event_session_id)
    places = availability.for_session(session, event_session, now)
    if places.expired_holds:
        # Places held past their time go on (to the waiting list) before anyone new is placed.
        release_expired_holds(session, event_session, now)
        places = availability.for_session(session, event_session, now)
    if places.closed_reason is not None:
        raise RegistrationClosed(places.closed_reason)
    existing = _find_live(session, event_session_id, email_normalized)
    if existing is not None:
        raise AlreadyRegistered(existing)
    status = places.status_for_new_registration(event_session.waitlist_enabled, event_session.hold_places)
    checks_done(session)
    registration = Registration(
        session_id=event_session_id,
        token=new_token(),
        status=status.value,
        consent_at=now,
        source=source,
        created_at=now,
        hold_expires_at=_hold_end(event_session, now) if status == RegistrationStatus.HELD else None,
    )
    _apply_details(registration, details, details.email.strip(), email_normalized)
    session.add(registration)
    session.flush()
    _tell(session, registration)
    return registration


def promote_from_waitlist(session: Session, event_session: EventSession, now: datetime) -> list[Registration]:
    """Give free places to the people who have waited longest. The caller holds the session's lock."""
    require_unit_of_work(session)
    if event_session.status != SessionStatus.PUBLISHED or now >= event_session.starts_at:
        # Once the session has begun, a freed seat goes to whoever is at the door, not to a late e-mail.
        return []
    free = availability.for_session(session, event_session, now).places_left
    if free <= 0:
        return []
    promoted = lock_all(
        session,
        select(Registration)
        .where(
            Registration.session_id == event_session.id,
            Registration.status == RegistrationStatus.WAITLISTED,
        )
        .order_by(Registration.created_at, Registration.id)
        .limit(free),
    )
    for registration in promoted:
        registration.promoted_at = now
        registration.updated_at = now
        if event_session.hold_places:
            # Whoever moves up confirms too: a waiting list filled by invented people must not take places.
            registration.status = RegistrationStatus.HELD.value
            registration.hold_expires_at = _hold_end(event_session, now)
        else:
            registration.status = RegistrationStatus.CONFIRMED.value
    session.flush()
    for registration in promoted:
        if registration.status == RegistrationStatus.HELD:
            _tell(session, registration, promoted=True)
        else:
            notify.registration_promoted(session, registration, link=personal_link(registration))
    return promoted


def _hold_end(event_session: EventSession, now: datetime) -> datetime:
    # Never past the start: a hold cannot outlive the session it is for.
    return min(now + timedelta(hours=max(event_session.hold_hours or 1, 1)), event_session.starts_at)


def release_expired_holds(session: Session, event_session: EventSession, now: datetime) -> list[Registration]:
    """Free the places held past their time and hand them to the waiting list, in order.

    The caller holds the session's lock (every path that decides on places calls this first).
    """
    require_unit_of_work(session)
    expired = lock_all(
        session,
        select(Registration)
        .where(
            Registration.session_id == event_session.id,
            Registration.status == RegistrationStatus.HELD,
            Registration.hold_expires_at <= now,
        )
        .order_by(Registration.hold_expires_at, Registration.id),
    )
    if not expired:
        return []
    for registration in expired:
        registration.status = RegistrationStatus.CANCELLED.value
        registration.cancelled_at = now
        registration.updated_at = now
    session.flush()
    for registration in expired:
        notify.registration_hold_expired(session, registration, link=personal_link(registration))
    promote_from_waitlist(session, event_session, now)
    return expired


def release_all_expired_holds(session: Session, *, now: datetime | None = None) -> int:
    """The worker's step: release expired holds in every session that has some. Returns how many."""
    now = now or utcnow()
    session_ids = session.scalars(
        select(Registration.session_id)
        .where(Registration.status == RegistrationStatus.HELD, Registration.hold_expires_at <= now)
        .distinct()
        .order_by(Registration.session_id)
    ).all()
    released = 0
    for event_session_id in session_ids:
        released += len(release_expired_holds(session, _lock_event_session(session, event_session_id), now))
    return released


def confirm_place(session: Session, registration_id: int, *, now: datetime | None = None) -> Registration:
    """The participant confirms a held place from their e-mail's link. Confirming twice is harmless.

    Returns the registration: confirmed, or cancelled when the hold had run out (its place has gone on).
    """
    now = now or utcnow()
    event_session, registration = _lock_registration(session, registration_id)
    if registration.status != RegistrationStatus.HELD:
        return registration  # confirmed already, or released: the page says which
    if registration.hold_expires_at <= now:
        release_expired_holds(session, event_session, now)  # too late: the place goes on
        return registration
    checks_done(session)
    registration.status = RegistrationStatus.CONFIRMED.value
    registration.hold_expires_at = None
    registration.updated_at = now
    session.flush()
    notify.registration_confirmed(session, registration, link=personal_link(registration))
    return registration


def cancel_registration(
    session: Session, registration_id: int, *, now: datetime | None = None
) -> tuple[Registration, list[Registration]]:
    """Cancel a registration and hand the freed place to the waiting list."""
    now = now or utcnow()
    event_session, registration = _lock_registration(session, registration_id)
    if registration.status == RegistrationStatus.CANCELLED:
        raise AlreadyCancelled()
    if now >= event_session.starts_at:
        raise SessionStarted()
    checks_done(session)
    registration.status = RegistrationStatus.CANCELLED.value
    registration.cancelled_at = now
    registration.hold_expires_at = None
    registration.updated_at = now
    session.flush()
    notify.registration_cancelled(session, registration, link=personal_link(registration))
    promoted = promote_from_waitlist(session, event_session, now)
    return registration, promoted


def update_details(
    session: Session, registration_id: int, details: ParticipantDetails, *, now: datetime | None = None
) -> Registration:
    """Change a person's details; the status and place in the queue stay as they are."""
    now = now or utcnow()
    email_normalized = normalise_email(details.email)
    event_session, registration = _lock_registration(session, registration_id)
    if registration.status == RegistrationStatus.CANCELLED:
        raise AlreadyCancelled()
    if now >= event_session.starts_at:
        raise SessionStarted()
    if email_normalized != registration.email_normalized:
        other = _find_live(session, registration.session_id, email_normalized)
        if other is not None and other.id != registration.id:
            raise AlreadyRegistered(other)
    checks_done(session)
    _apply_details(registration, details, details.email.strip(), email_normalized)
    registration.updated_at = now
    session.flush()
    notify.registration_changed(session, registration, link=personal_link(registration))
    return registration


def request_link_again(session: Session, event_session_id: int, email: str) -> bool:
    """Send the personal link again to the address that registered; says nothing about others."""
    require_unit_of_work(session)
    registration = _find_live(session, event_session_id, normalise_email(email))
    if registration is None:
        return False
    notify.registration_link(session, registration, link=personal_link(registration))
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
    by: User,
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
    now = now or utcnow()
    event_session, registration = _lock_registration(session, registration_id)
    old = registration.status
    if new_status == old:
        return registration, []
    places = availability.for_session(session, event_session, now)
    if old == RegistrationStatus.CANCELLED and new_status != RegistrationStatus.CANCELLED:
        # Reinstating: the same person may have registered again since.
        existing = _find_live(session, event_session.id, registration.email_normalized)
        if existing is not None:
            raise AlreadyRegistered(existing)
    promoted: list[Registration] = []
    if new_status == RegistrationStatus.CANCELLED:
        checks_done(session)
        registration.status = RegistrationStatus.CANCELLED.value
        registration.cancelled_at = now
        session.flush()
        notify.registration_cancelled(session, registration, link=personal_link(registration))
        promoted = promote_from_waitlist(session, event_session, now)
    elif new_status == RegistrationStatus.CONFIRMED:
        if places.is_full and not over_capacity and old != RegistrationStatus.HELD:
            raise NoPlaceLeft()
        checks_done(session)
        registration.status = RegistrationStatus.CONFIRMED.value
        registration.cancelled_at = None
        registration.hold_expires_at = None
        session.flush()
        if old == RegistrationStatus.WAITLISTED:
            registration.promoted_at = now
            notify.registration_promoted(session, registration, link=personal_link(registration))
        else:
            notify.registration_confirmed(session, registration, link=personal_link(registration))
    elif new_status == RegistrationStatus.WAITLISTED and old == RegistrationStatus.CANCELLED:
        if not places.is_full:
            raise StatusChangeNotAllowed(old, new_status)
        checks_done(session)
        registration.status = RegistrationStatus.WAITLISTED.value
        registration.cancelled_at = None
        # The end of the queue: the waiting list is ordered by when people joined it.
        registration.created_at = now
        session.flush()
        _tell(session, registration)
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
    session.flush()
    return registration, promoted


def check_in(
    session: Session, registration_id: int, *, by: User, undo: bool = False, now: datetime | None = None
) -> Registration:
    """Mark a confirmed participant as present at the door (or take the mark back after a mistake)."""
    now = now or utcnow()
    _event_session, registration = _lock_registration(session, registration_id)
    if registration.status != RegistrationStatus.CONFIRMED:
        raise NotConfirmed()
    if undo:
        registration.checked_in_at = None
    elif registration.checked_in_at is None:  # a double tap keeps the first time
        registration.checked_in_at = now
    registration.updated_at = now
    audit.record(session, by, "registration.check_in_undo" if undo else "registration.check_in", registration)
    session.flush()
    return registration


def register_walk_in(
    session: Session,
    event_session_id: int,
    details: ParticipantDetails,
    *,
    by: User,
    now: datetime | None = None,
) -> Registration:
    """Register someone who turned up at the door: confirmed and checked in at once.

    Not `register_participant`: walk-ins arrive after the registration deadline by nature, and they are
    in the room, so they take a seat even when the list is full (the people waiting are not there).
    The e-mail is optional; without one the person gets no mail, and a key unique to this registration
    stands in for the address so that two people without e-mail are never taken for the same person.
    """
    now = now or utcnow()
    email = (details.email or "").strip()
    token = new_token()
    email_normalized = normalise_email(email) if email else f"walk-in:{token[:32]}"
    event_session = _lock_event_session(session, event_session_id)
    if event_session.status != SessionStatus.PUBLISHED:
        raise RegistrationClosed(
            ClosedReason.CANCELLED if event_session.is_cancelled else ClosedReason.NOT_PUBLISHED
        )
    if email:
        existing = _find_live(session, event_session_id, email_normalized)
        if existing is not None:
            raise AlreadyRegistered(existing)
    checks_done(session)
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
        notify.registration_confirmed(session, registration, link=personal_link(registration))
    audit.record(session, by, "registration.walk_in", registration, session_id=event_session_id)
    session.flush()
    return registration

"""Availability: the one place that says how many places a session has left and why it is closed.

The session list, the session page, the organiser's pages, the mail and the locked decision in
`register_participant` all ask here, so "capacity − confirmed" and the closed-reason rules are written
once. `for_sessions` answers a whole page of sessions in one grouped query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from eventreg.models import EventSession, Registration, RegistrationStatus, SessionStatus
from eventreg.models.common import LabelledEnum


class ClosedReason(LabelledEnum):
    """Why registration for a session is closed, with the sentence a participant reads."""

    DEADLINE = "deadline", _l("Registration for this session is closed: the deadline has passed.")
    CANCELLED = "cancelled", _l("This session has been cancelled, so registration is closed.")
    NOT_PUBLISHED = "not_published", _l("Registration for this session is not open.")
    FULL = "full", _l("This session is full and has no waiting list, so registration is closed.")


@dataclass(frozen=True)
class Availability:
    capacity: int
    confirmed: int
    waiting: int
    checked_in: int
    closed_reason: ClosedReason | None
    held: int = 0  # places kept for people who have not yet confirmed from their e-mail
    # Holds past their time: they take no place, but are still to be released (and their place passed on).
    expired_holds: int = 0

    @property
    def taken(self) -> int:
        return self.confirmed + self.held

    @property
    def waitlisted(self) -> int:
        return self.waiting

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.taken, 0)

    @property
    def is_full(self) -> bool:
        return self.taken >= self.capacity

    @property
    def is_open(self) -> bool:
        return self.closed_reason is None

    def status_for_new_registration(
        self, waitlist_enabled: bool, hold_places: bool = False
    ) -> RegistrationStatus | None:
        """Confirmed (or held) while places last, then the waiting list; None when neither is possible."""
        if not self.is_full:
            return RegistrationStatus.HELD if hold_places else RegistrationStatus.CONFIRMED
        if waitlist_enabled:
            return RegistrationStatus.WAITLISTED
        return None


def closed_reason(event_session: EventSession, taken: int, now: datetime) -> ClosedReason | None:
    if event_session.status == SessionStatus.CANCELLED:
        return ClosedReason.CANCELLED
    if event_session.status != SessionStatus.PUBLISHED:
        return ClosedReason.NOT_PUBLISHED
    if not event_session.registration_open(now):
        return ClosedReason.DEADLINE
    if taken >= event_session.capacity and not event_session.waitlist_enabled:
        return ClosedReason.FULL
    return None


def _counts(session: Session, session_ids: Sequence[int], now: datetime) -> dict[int, dict[str, int]]:
    counts = {
        sid: {"confirmed": 0, "held": 0, "expired_holds": 0, "waiting": 0, "checked_in": 0}
        for sid in session_ids
    }
    if not session_ids:
        return counts
    # A hold past its time no longer takes a place, even before the worker has released it; it is counted
    # apart, so that the locked decision releases holds only when there are some (one statement less).
    rows = session.execute(
        select(
            Registration.session_id,
            Registration.status,
            func.count(Registration.id),
            func.count(Registration.checked_in_at),
            func.count(case((Registration.hold_expires_at > now, 1))),
            func.count(case((Registration.hold_expires_at <= now, 1))),
        )
        .where(
            Registration.session_id.in_(list(session_ids)),
            Registration.status != RegistrationStatus.CANCELLED.value,
        )
        .group_by(Registration.session_id, Registration.status)
    )
    for session_id, status, number, checked_in, live_holds, expired_holds in rows:
        if status == RegistrationStatus.CONFIRMED:
            counts[session_id]["confirmed"] = number
            counts[session_id]["checked_in"] = checked_in
        elif status == RegistrationStatus.HELD:
            counts[session_id]["held"] = live_holds
            counts[session_id]["expired_holds"] = expired_holds
        elif status == RegistrationStatus.WAITLISTED:
            counts[session_id]["waiting"] = number
    return counts


def for_sessions(
    session: Session, event_sessions: Sequence[EventSession], now: datetime
) -> dict[int, Availability]:
    """Availability of each session, by id, in one query."""
    counts = _counts(session, [s.id for s in event_sessions], now)
    return {
        s.id: Availability(
            capacity=s.capacity,
            confirmed=counts[s.id]["confirmed"],
            held=counts[s.id]["held"],
            expired_holds=counts[s.id]["expired_holds"],
            waiting=counts[s.id]["waiting"],
            checked_in=counts[s.id]["checked_in"],
            closed_reason=closed_reason(s, counts[s.id]["confirmed"] + counts[s.id]["held"], now),
        )
        for s in event_sessions
    }


def for_session(session: Session, event_session: EventSession, now: datetime) -> Availability:
    return for_sessions(session, [event_session], now)[event_session.id]


def waitlist_position(session: Session, registration: Registration) -> int | None:
    """1 for the next person to get a place; None when not on the waiting list.

    The waiting list is ordered by when people joined it, then by id: the order promotion follows.
    """
    if registration.status != RegistrationStatus.WAITLISTED:
        return None
    ahead = session.scalar(
        select(func.count(Registration.id)).where(
            Registration.session_id == registration.session_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            (Registration.created_at < registration.created_at)
            | ((Registration.created_at == registration.created_at) & (Registration.id < registration.id)),
        )
    )
    return ahead + 1

"""What organisers and the scheduler do with mail: reminders, retrying, writing to a session."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from eventreg import audit
from eventreg.db import lock_all, lock_one
from eventreg.mail import notify
from eventreg.models import (
    EventSession,
    OutboxMessage,
    OutboxStatus,
    Registration,
    RegistrationStatus,
    SessionStatus,
    User,
    utcnow,
)
from eventreg.registration.links import personal_link

STATUSES = [s.value for s in OutboxStatus]


class MailError(Exception):
    """A mail request that cannot be carried out; the view turns it into a message."""


class NotRetryable(MailError):
    """Only a failed message can be put back in the queue."""


class NoRecipients(MailError):
    """Nobody is registered (with the chosen statuses) for the session."""


# --- the outbox, for organisers -----------------------------------------------------------------


def status_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(OutboxMessage.status, func.count(OutboxMessage.id)).group_by(OutboxMessage.status)
    )
    counts = dict.fromkeys(STATUSES, 0)
    counts.update(dict(rows.all()))
    return counts


def list_messages(
    session: Session, status: str | None, *, limit: int = 100, offset: int = 0
) -> list[OutboxMessage]:
    stmt = select(OutboxMessage)
    if status in STATUSES:
        stmt = stmt.where(OutboxMessage.status == status)
    # Failed and waiting messages matter most, so the newest of the chosen kind come first.
    stmt = stmt.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(stmt))


def retry_message(
    session: Session, message_id: int, *, by: User, now: datetime | None = None
) -> OutboxMessage:
    """Put a failed message back in the queue with a fresh set of attempts, due now."""
    now = now or utcnow()
    message = lock_one(session, OutboxMessage, message_id)
    if message is None or message.status != OutboxStatus.FAILED:
        raise NotRetryable()
    message.status = OutboxStatus.PENDING.value
    message.attempts = 0
    message.next_attempt_at = now
    audit.record(session, by, "mail.retry", message, kind=message.kind)
    session.flush()
    return message


# --- writing to everyone registered for a session ----------------------------------------------


def recipients(session: Session, event_session_id: int, *, include_waitlisted: bool) -> list[Registration]:
    statuses = [RegistrationStatus.CONFIRMED.value]
    if include_waitlisted:
        statuses.append(RegistrationStatus.WAITLISTED.value)
    return list(
        session.scalars(
            select(Registration)
            .where(Registration.session_id == event_session_id, Registration.status.in_(statuses))
            .options(selectinload(Registration.session))
            .order_by(Registration.id)
        )
    )


def write_to_session(
    session: Session,
    event_session_id: int,
    *,
    subject: str,
    body: str,
    include_waitlisted: bool,
    by: User,
) -> tuple[int, int]:
    """Queue the organiser's message for each registered participant who gave an e-mail.

    Returns (queued, unreachable): walk-ins registered without an address cannot be written to, and the
    organiser is told how many they are rather than the count pretending they were reached.
    """
    event_session = lock_one(session, EventSession, event_session_id, shared=True)
    if event_session is None:
        raise NoRecipients()
    people = recipients(session, event_session_id, include_waitlisted=include_waitlisted)
    if not people:
        raise NoRecipients()
    reachable = [r for r in people if (r.email or "").strip()]
    for registration in reachable:
        notify.organiser_message(
            session, registration, subject.strip(), body.strip(), link=personal_link(registration)
        )
    audit.record(
        session,
        by,
        "mail.write_to_session",
        event_session,
        recipients=len(reachable),
        unreachable=len(people) - len(reachable),
        include_waitlisted=include_waitlisted,
    )
    session.flush()
    return len(reachable), len(people) - len(reachable)


def sessions_to_write_to(session: Session) -> list[EventSession]:
    return list(
        session.scalars(
            select(EventSession)
            .where(EventSession.status != SessionStatus.DRAFT)
            .order_by(EventSession.starts_at.desc(), EventSession.id)
        )
    )


# --- reminders --------------------------------------------------------------------------------


def sessions_needing_reminders(session: Session, now: datetime) -> list[EventSession]:
    """Published sessions that start tomorrow (Bishkek date) or within the next 24 hours."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    end_of_tomorrow = datetime.combine(tomorrow + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    horizon = max(end_of_tomorrow, now + timedelta(hours=24))
    return list(
        session.scalars(
            select(EventSession)
            .where(
                EventSession.status == SessionStatus.PUBLISHED,
                EventSession.starts_at > now,
                EventSession.starts_at < horizon,
            )
            .order_by(EventSession.starts_at, EventSession.id)
        )
    )


def queue_reminders(session: Session, *, now: datetime | None = None) -> int:
    """Queue the day-before reminder for every confirmed registration not reminded yet. Returns how many.

    Safe to run any number of times, from cron or the worker, even two at once: each reminder has a
    dedupe key, checked with the sessions concerned locked.
    """
    now = now or utcnow()
    due = [s.id for s in sessions_needing_reminders(session, now)]
    # Two runs at once serialise on these rows, so the second sees what the first queued.
    locked = lock_all(session, select(EventSession).where(EventSession.id.in_(due)).order_by(EventSession.id))
    queued = 0
    for event_session in sorted(locked, key=lambda s: (s.starts_at, s.id)):
        confirmed = session.scalars(
            select(Registration)
            .where(
                Registration.session_id == event_session.id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
            .order_by(Registration.id)
        )
        for registration in confirmed:
            if notify.session_reminder(session, registration, link=personal_link(registration)) is not None:
                queued += 1
    session.flush()
    return queued

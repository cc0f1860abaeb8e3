"""Erasing one person's data, and anonymising a finished consultation.

What goes: name, e-mail, phone, position and accessibility needs on registrations; name and e-mail on
comments; the text and address of every message to them in the outbox (unsent ones are dropped). What stays:
sector, region, sex and organisation (the ministry's counts and the table of comments), the comments
themselves and the decisions on them. Both run inside the caller's unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from eventreg.db import lock_all, lock_one, require_unit_of_work
from eventreg.models import (
    Comment,
    Consultation,
    Document,
    EventSession,
    OutboxMessage,
    OutboxStatus,
    Registration,
    RegistrationStatus,
    utcnow,
)
from eventreg.registration import services as registration_services


class PrivacyError(Exception):
    pass


class AlreadyErased(PrivacyError):
    pass


class ConsultationStillOpen(PrivacyError):
    """Comments are still accepted or a session has not ended: the people may still need to be reached."""


class ConsultationNotFound(PrivacyError):
    pass


def _forget_mail(session: Session, addresses: Iterable[str]) -> None:
    addresses = sorted({a for a in addresses if a})
    if not addresses:
        return
    # Not yet sent: dropped (nothing may reach an address the person asked us to forget).
    session.execute(
        delete(OutboxMessage)
        .where(
            OutboxMessage.recipient.in_(addresses),
            OutboxMessage.status.in_([OutboxStatus.PENDING.value, OutboxStatus.FAILED.value]),
        )
        .execution_options(synchronize_session=False)
    )
    # Sent (or being sent): the record of a message stays, without the address and the text.
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.recipient.in_(addresses))
        .values(recipient="", body_text="", body_html=None, attachments=[])
        .execution_options(synchronize_session=False)
    )


def _scrub_registration(registration: Registration, now: datetime) -> None:
    registration.full_name = ""
    registration.email = ""
    # Unique among live registrations of a session: an erased row must never match anyone's address.
    registration.email_normalized = f"erased-{registration.id}"
    registration.phone = None
    registration.position = ""
    registration.accessibility_needs = None
    registration.token = registration_services.new_token()  # the old personal link opens nothing
    registration.erased_at = now
    registration.updated_at = now


def _scrub_comments(session: Session, condition) -> None:
    session.execute(
        update(Comment)
        .where(condition)
        .values(author_name="", email=None, show_name=False)
        .execution_options(synchronize_session=False)
    )


def erase_registration(session: Session, registration_id: int, *, now: datetime | None = None) -> list[int]:
    """The participant erases their registration and contact data from their personal page.

    Before the session starts, the place is freed under the capacity rules and the waiting list promoted
    (as a cancellation does). Afterwards, their attendance stays counted: only the personal data goes.
    Returns the ids of the people promoted.
    """
    require_unit_of_work(session)
    now = now or utcnow()
    registration = session.get(Registration, registration_id)
    if registration is None:
        raise registration_services.RegistrationNotFound()
    promoted: list[int] = []
    event_session = session.get(EventSession, registration.session_id)
    if registration.status != RegistrationStatus.CANCELLED and now < event_session.starts_at:
        _cancelled, people = registration_services.cancel_registration(session, registration_id, now=now)
        promoted = [p.id for p in people]
    registration = lock_one(session, Registration, registration_id)
    if registration.erased_at is not None:
        raise AlreadyErased()
    address = registration.email
    _scrub_comments(session, Comment.registration_id == registration.id)
    _scrub_registration(registration, now)
    session.flush()
    _forget_mail(session, [address])
    return promoted


def consultation_is_finished(session: Session, consultation: Consultation, now: datetime) -> bool:
    if consultation.comments_open(now) or (
        consultation.comments_close_at is not None and now < consultation.comments_close_at
    ):
        return False
    last_end = max((s.ends_at for s in consultation.sessions), default=None)
    return last_end is None or last_end <= now


def anonymise_consultation(session: Session, slug: str, *, now: datetime | None = None) -> tuple[int, int]:
    """Remove names and contacts of everyone in a finished consultation; counts, comments and decisions
    stay. Refuses while it is open. Returns (registrations, comments) anonymised."""
    require_unit_of_work(session)
    now = now or utcnow()
    locked = lock_all(session, select(Consultation).where(Consultation.slug == slug))
    if not locked:
        raise ConsultationNotFound(slug)
    consultation = locked[0]
    if not consultation_is_finished(session, consultation, now):
        raise ConsultationStillOpen(slug)
    session_ids = select(EventSession.id).where(EventSession.consultation_id == consultation.id)
    registrations = lock_all(
        session,
        select(Registration).where(
            Registration.session_id.in_(session_ids), Registration.erased_at.is_(None)
        ),
    )
    document_ids = select(Document.id).where(Document.consultation_id == consultation.id)
    comment_addresses = session.scalars(
        select(Comment.email).where(Comment.document_id.in_(document_ids), Comment.email.is_not(None))
    ).all()
    addresses = [r.email for r in registrations] + list(comment_addresses)
    for registration in registrations:
        _scrub_registration(registration, now)
    count_comments = session.scalar(
        select(func.count(Comment.id)).where(Comment.document_id.in_(document_ids))
    )
    _scrub_comments(session, Comment.document_id.in_(document_ids))
    consultation.anonymised_at = now
    session.flush()
    _forget_mail(session, addresses)
    return len(registrations), count_comments

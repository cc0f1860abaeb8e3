"""Session evaluation (оценка встречи / жыйынга баа берүү): inviting, answering, summarising.

The caller owns the unit of work (eventreg.db.unit_of_work); these services lock what they decide on,
re-read it, write and flush, and never commit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from eventreg import audit
from eventreg.db import lock_all, lock_one, require_unit_of_work
from eventreg.mail import notify
from eventreg.models import (
    EvaluationAnswer,
    EvaluationRound,
    EventSession,
    Registration,
    RegistrationStatus,
    SessionStatus,
    User,
    utcnow,
)
from eventreg.registration.links import personal_link

SCALE = (1, 2, 3, 4, 5)
AGAIN = ("yes", "no", "not_sure")
QUESTIONS = ("expectations", "usefulness", "organisation")
OPEN_FOR = timedelta(days=14)
# Sessions that ended longer ago than this are not invited automatically (the memory has faded).
AUTOMATIC_WITHIN = timedelta(days=3)


class EvaluationError(Exception):
    """An evaluation request that cannot be carried out; the view turns it into a message."""


class SessionNotStarted(EvaluationError):
    pass


class EvaluationClosed(EvaluationError):
    pass


class NotInvited(EvaluationError):
    """This registration is not asked to evaluate (not checked in, and confirmed people not included)."""


@dataclass
class AnswerData:
    expectations: int
    usefulness: int
    organisation: int
    again: str
    most_useful: str = ""
    to_improve: str = ""
    sex: str = "undisclosed"  # only for answers by short link: a registration brings its own
    sector: str = ""


def round_for(session: Session, event_session_id: int) -> EvaluationRound | None:
    return session.scalars(
        select(EvaluationRound).where(EvaluationRound.session_id == event_session_id)
    ).first()


def round_by_code(session: Session, code: str) -> EvaluationRound | None:
    if not code or len(code) > 16:
        return None
    return session.scalars(select(EvaluationRound).where(EvaluationRound.code == code)).first()


def is_invited(registration: Registration, evaluation: EvaluationRound) -> bool:
    if registration.status != RegistrationStatus.CONFIRMED:
        return False
    return registration.checked_in_at is not None or evaluation.include_confirmed


def invited_registrations(session: Session, evaluation: EvaluationRound) -> list[Registration]:
    rows = session.scalars(
        select(Registration)
        .where(
            Registration.session_id == evaluation.session_id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
        .order_by(Registration.id)
    )
    return [r for r in rows if is_invited(r, evaluation)]


def answer_for(session: Session, registration_id: int) -> EvaluationAnswer | None:
    return session.scalars(
        select(EvaluationAnswer).where(EvaluationAnswer.registration_id == registration_id)
    ).first()


def open_evaluation(
    session: Session,
    event_session_id: int,
    *,
    include_confirmed: bool = False,
    closes_at: datetime | None = None,
    by: User | None = None,
    now: datetime | None = None,
) -> int:
    """Open (or widen) the session's evaluation and invite, through the outbox, everyone it asks.

    Checked-in participants are always asked; confirmed ones too when the organiser says so. People
    without an e-mail answer through the short link shown at the door. Each person is invited once
    (the dedupe key), so running it again only reaches people added since. Returns how many were queued.
    """
    require_unit_of_work(session)
    now = now or utcnow()
    event_session = lock_one(session, EventSession, event_session_id)
    if event_session is None or event_session.status != SessionStatus.PUBLISHED:
        raise EvaluationError("not published")
    if now < event_session.starts_at:
        raise SessionNotStarted()
    evaluation = round_for(session, event_session_id)
    if evaluation is None:
        evaluation = EvaluationRound(
            session_id=event_session_id,
            code=secrets.token_urlsafe(6),
            include_confirmed=include_confirmed,
            opened_at=now,
            closes_at=closes_at or max(event_session.ends_at, now) + OPEN_FOR,
            invited=0,
        )
        session.add(evaluation)
    else:
        lock_one(session, EvaluationRound, evaluation.id)
        evaluation.include_confirmed = evaluation.include_confirmed or include_confirmed
        if closes_at is not None:
            evaluation.closes_at = closes_at
    session.flush()
    queued = 0
    for registration in invited_registrations(session, evaluation):
        if (registration.email or "").strip() and notify.evaluation_invitation(
            session, registration, link=personal_link(registration)
        ):
            queued += 1
    evaluation.invited += queued
    audit.record(
        session, by, "evaluation.open", event_session, queued=queued, include_confirmed=include_confirmed
    )
    session.flush()
    return queued


def open_due_evaluations(session: Session, *, now: datetime | None = None) -> int:
    """The worker's step: sessions that have just ended get their evaluation and invitations."""
    require_unit_of_work(session)
    now = now or utcnow()
    ended = lock_all(
        session,
        select(EventSession).where(
            EventSession.status == SessionStatus.PUBLISHED,
            EventSession.ends_at <= now,
            EventSession.ends_at > now - AUTOMATIC_WITHIN,
        ),
    )
    queued = 0
    for event_session in ended:
        if round_for(session, event_session.id) is None:
            queued += open_evaluation(session, event_session.id, now=now)
    return queued


def close_evaluation(
    session: Session, event_session_id: int, *, by: User | None, now: datetime | None = None
):
    require_unit_of_work(session)
    now = now or utcnow()
    evaluation = round_for(session, event_session_id)
    if evaluation is not None:
        lock_one(session, EvaluationRound, evaluation.id)
        evaluation.closes_at = min(evaluation.closes_at, now)
        audit.record(session, by, "evaluation.close", evaluation.session)
        session.flush()


def save_answer(
    session: Session,
    round_id: int,
    data: AnswerData,
    *,
    registration_id: int | None = None,
    now: datetime | None = None,
) -> EvaluationAnswer:
    """Store an answer: one per registration, replaced while the evaluation is open."""
    require_unit_of_work(session)
    now = now or utcnow()
    evaluation = lock_one(session, EvaluationRound, round_id)
    if evaluation is None or not evaluation.is_open(now):
        raise EvaluationClosed()
    if data.expectations not in SCALE or data.usefulness not in SCALE or data.organisation not in SCALE:
        raise ValueError("score out of range")
    if data.again not in AGAIN:
        raise ValueError("again")
    answer = None
    sex, sector = data.sex, data.sector
    if registration_id is not None:
        registration = lock_one(session, Registration, registration_id)
        if registration is None or registration.session_id != evaluation.session_id:
            raise NotInvited()
        if not is_invited(registration, evaluation):
            raise NotInvited()
        sex, sector = registration.sex, registration.sector
        answer = answer_for(session, registration_id)
    if answer is None:
        answer = EvaluationAnswer(round_id=round_id, registration_id=registration_id, created_at=now)
        session.add(answer)
    answer.sex = sex or "undisclosed"
    answer.sector = sector or ""
    for name in QUESTIONS:
        setattr(answer, name, getattr(data, name))
    answer.again = data.again
    answer.most_useful = (data.most_useful or "").strip()
    answer.to_improve = (data.to_improve or "").strip()
    answer.updated_at = now
    session.flush()
    return answer

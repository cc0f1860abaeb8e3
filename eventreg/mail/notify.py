"""What participants are told, and when. Each function queues one message in the caller's transaction."""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from eventreg.mail.outbox import enqueue
from eventreg.models import Registration, utcnow


def personal_link(registration: Registration) -> str:
    # Links in mail come from BASE_URL, never from the request's Host header.
    base = current_app.config["BASE_URL"]
    return f"{base}/{registration.locale}/r/{registration.token}"


def _registration_message(session: Session, registration: Registration, kind: str, subject) -> None:
    with force_locale(registration.locale):
        context = {
            "registration": registration,
            "event_session": registration.session,
            "link": personal_link(registration),
            "lang": registration.locale,
        }
        body_text = render_template(f"mail/{kind}.txt", **context)
        enqueue(
            session,
            kind=kind,
            recipient=registration.email,
            subject=str(subject),
            body_text=body_text,
            locale=registration.locale,
        )


def registration_confirmed(session: Session, registration: Registration) -> None:
    _registration_message(session, registration, "registration_confirmed", _l("Your place is confirmed"))


def registration_waitlisted(session: Session, registration: Registration) -> None:
    _registration_message(session, registration, "registration_waitlisted", _l("You are on the waiting list"))


def registration_promoted(session: Session, registration: Registration) -> None:
    _registration_message(
        session,
        registration,
        "registration_promoted",
        _l("A place has opened: your registration is confirmed"),
    )


def registration_changed(session: Session, registration: Registration) -> None:
    _registration_message(session, registration, "registration_changed", _l("Your registration was updated"))


def registration_cancelled(session: Session, registration: Registration) -> None:
    _registration_message(
        session, registration, "registration_cancelled", _l("Your registration is cancelled")
    )


def registration_link(session: Session, registration: Registration) -> None:
    _registration_message(session, registration, "registration_link", _l("Your personal registration link"))


def session_changed(session: Session, registration: Registration) -> None:
    """Organisers changed the time or place of a session this person is registered for."""
    _registration_message(session, registration, "session_changed", _l("Your session has changed"))


def session_cancelled(session: Session, registration: Registration) -> None:
    """Organisers cancelled a session this person is registered for."""
    _registration_message(session, registration, "session_cancelled", _l("Your session is cancelled"))


def comment_decided(session: Session, comment) -> None:
    """Tell a comment's author (if they gave an e-mail) the decision on it, once it is public."""
    if not comment.email or comment.decision is None:
        return
    with force_locale(comment.language):
        body_text = render_template("mail/comment_decided.txt", comment=comment, lang=comment.language)
        enqueue(
            session,
            kind="comment_decided",
            recipient=comment.email,
            subject=str(_l("The decision on your comment")),
            body_text=body_text,
            locale=comment.language,
        )
    comment.outcome_notified_at = utcnow()


def notify_published_outcomes(session: Session, document) -> int:
    """When a document's results are published: tell every decided author not told yet. Returns how many."""
    from sqlalchemy import select

    from eventreg.models import Comment

    pending = session.scalars(
        select(Comment).where(
            Comment.document_id == document.id,
            Comment.decision.is_not(None),
            Comment.email.is_not(None),
            Comment.outcome_notified_at.is_(None),
        )
    ).all()
    for comment in pending:
        comment_decided(session, comment)
    return len(pending)

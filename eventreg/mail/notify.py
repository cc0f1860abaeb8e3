"""What participants are told, and when. Each function queues one message in the caller's transaction.

Every message is rendered here, at the moment of the change, in the recipient's language (plain text,
HTML and, where it helps, a calendar file), so the worker only has to deliver what is stored.
"""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from eventreg.mail.ics import registration_calendar
from eventreg.mail.outbox import enqueue
from eventreg.models import OutboxMessage, Registration, utcnow

# Messages whose session the person should have in their calendar; the cancellations remove it again.
CALENDAR_KINDS = {"registration_confirmed", "registration_promoted", "session_changed", "session_reminder"}
CALENDAR_CANCEL_KINDS = {"registration_cancelled", "session_cancelled"}


def personal_link(registration: Registration) -> str:
    # Links in mail come from BASE_URL, never from the request's Host header.
    base = current_app.config["BASE_URL"]
    return f"{base}/{registration.locale}/r/{registration.token}"


def _render(kind: str, **context) -> tuple[str, str]:
    """The plain-text and HTML bodies of one message (the HTML template escapes everything it is given)."""
    return render_template(f"mail/{kind}.txt", **context), render_template(f"mail/{kind}.html", **context)


def _calendar_attachment(registration: Registration, link: str, *, cancelled: bool) -> dict:
    description = "\n".join([_("Your personal link (see, change or cancel your registration):"), link])
    content = registration_calendar(registration, link=link, description=description, cancelled=cancelled)
    return {
        "filename": "session.ics",
        "mimetype": "text/calendar",
        "method": "CANCEL" if cancelled else "PUBLISH",
        "content": content.decode("utf-8"),
    }


def _registration_message(
    session: Session,
    registration: Registration,
    kind: str,
    subject,
    *,
    dedupe_key: str | None = None,
    **extra,
) -> OutboxMessage | None:
    with force_locale(registration.locale):
        link = personal_link(registration)
        context = {
            "registration": registration,
            "event_session": registration.session,
            "link": link,
            "lang": registration.locale,
            "subject": str(subject),
            **extra,
        }
        body_text, body_html = _render(kind, **context)
        attachments = []
        if kind in CALENDAR_KINDS:
            attachments.append(_calendar_attachment(registration, link, cancelled=False))
        elif kind in CALENDAR_CANCEL_KINDS:
            attachments.append(_calendar_attachment(registration, link, cancelled=True))
        return enqueue(
            session,
            kind=kind,
            recipient=registration.email,
            subject=str(subject),
            body_text=body_text,
            body_html=body_html,
            attachments=attachments,
            locale=registration.locale,
            dedupe_key=dedupe_key,
        )


def registration_confirmed(session: Session, registration: Registration) -> None:
    _registration_message(session, registration, "registration_confirmed", _l("Your place is confirmed"))


def registration_waitlisted(session: Session, registration: Registration) -> None:
    # Imported here: the registration services import this module.
    from eventreg.registration.services import waitlist_position

    _registration_message(
        session,
        registration,
        "registration_waitlisted",
        _l("You are on the waiting list"),
        position=waitlist_position(session, registration),
    )


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


def reminder_key(registration: Registration) -> str:
    # The start time is part of the key: if organisers move the session, the new time earns a new reminder.
    return f"reminder:{registration.id}:{registration.session.starts_at:%Y%m%dT%H%M}"


def session_reminder(session: Session, registration: Registration) -> OutboxMessage | None:
    """The day-before reminder; queued at most once per registration and start time (None if already)."""
    return _registration_message(
        session,
        registration,
        "session_reminder",
        _l("Reminder: your session is tomorrow"),
        dedupe_key=reminder_key(registration),
    )


def organiser_message(
    session: Session, registration: Registration, subject: str, body: str
) -> OutboxMessage | None:
    """A message an organiser wrote to everyone registered for a session, wrapped in the person's language."""
    return _registration_message(session, registration, "organiser_message", subject, body=body)


def comment_decided(session: Session, comment) -> None:
    """Tell a comment's author (if they gave an e-mail) the decision on it, once it is public."""
    if not comment.email or comment.decision is None:
        return
    with force_locale(comment.language):
        subject = str(_l("The decision on your comment"))
        context = {
            "comment": comment,
            "document": comment.document,
            "item": comment.item,
            "lang": comment.language,
            "subject": subject,
            "base_url": current_app.config["BASE_URL"],
        }
        body_text, body_html = _render("comment_decided", **context)
        enqueue(
            session,
            kind="comment_decided",
            recipient=comment.email,
            subject=subject,
            body_text=body_text,
            body_html=body_html,
            locale=comment.language,
            # One decision message per comment, even if publishing is triggered twice.
            dedupe_key=f"comment_decided:{comment.id}:{comment.decided_at:%Y%m%dT%H%M%S}"
            if comment.decided_at
            else None,
        )
    comment.outcome_notified_at = utcnow()


def notify_published_outcomes(session: Session, document) -> int:
    """When a document's results are published: tell every decided author not told yet. Returns how many."""
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


def evaluation_invitation(session: Session, registration: Registration) -> OutboxMessage | None:
    """After the session: the link to its evaluation form. Once per registration (the dedupe key)."""
    return _registration_message(
        session,
        registration,
        "evaluation_invitation",
        _l("How was the session? Please give it your evaluation"),
        dedupe_key=f"evaluation:{registration.id}",
    )

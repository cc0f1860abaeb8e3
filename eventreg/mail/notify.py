"""What participants are told, and when. Each function queues one message in the caller's transaction.

Every message is rendered here, at the moment of the change, in the recipient's language (plain text,
HTML and, where it helps, a calendar file), so the worker only has to deliver what is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from eventreg.mail.ics import registration_calendar
from eventreg.mail.outbox import enqueue, new_message_id
from eventreg.models import OutboxMessage, Registration, utcnow

# Messages whose session the person should have in their calendar; the cancellations remove it again.
CALENDAR_KINDS = {"registration_confirmed", "registration_promoted", "session_changed", "session_reminder"}
CALENDAR_CANCEL_KINDS = {"registration_cancelled", "session_cancelled"}


def _render(kind: str, **context) -> tuple[str, str]:
    """The plain-text and HTML bodies of one message (the HTML template escapes everything it is given)."""
    return render_template(f"mail/{kind}.txt", **context), render_template(f"mail/{kind}.html", **context)


def _calendar_attachment(registration: Registration, link: str, *, cancelled: bool) -> dict:
    content = registration_calendar(registration, link=link, cancelled=cancelled)
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
    link: str,
    dedupe_key: str | None = None,
    **extra,
) -> OutboxMessage | None:
    with force_locale(registration.locale):
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


def registration_confirmed(session: Session, registration: Registration, *, link: str) -> None:
    _registration_message(
        session, registration, "registration_confirmed", _l("Your place is confirmed"), link=link
    )


def registration_waitlisted(
    session: Session, registration: Registration, *, link: str, position: int
) -> None:
    _registration_message(
        session,
        registration,
        "registration_waitlisted",
        _l("You are on the waiting list"),
        link=link,
        position=position,
    )


def registration_held(
    session: Session, registration: Registration, *, link: str, promoted: bool = False
) -> None:
    """A place kept for the person until they confirm it from this message (or until it expires)."""
    _registration_message(
        session,
        registration,
        "registration_held",
        _l("Confirm your place"),
        link=link,
        promoted=promoted,
        expires_at=registration.hold_expires_at,
    )


def registration_hold_expired(session: Session, registration: Registration, *, link: str) -> None:
    _registration_message(
        session, registration, "registration_hold_expired", _l("Your held place was released"), link=link
    )


def registration_promoted(session: Session, registration: Registration, *, link: str) -> None:
    _registration_message(
        session,
        registration,
        "registration_promoted",
        _l("A place has opened: your registration is confirmed"),
        link=link,
    )


def registration_changed(session: Session, registration: Registration, *, link: str) -> None:
    _registration_message(
        session, registration, "registration_changed", _l("Your registration was updated"), link=link
    )


def registration_cancelled(session: Session, registration: Registration, *, link: str) -> None:
    _registration_message(
        session, registration, "registration_cancelled", _l("Your registration is cancelled"), link=link
    )


def registration_link(session: Session, registration: Registration, *, link: str) -> None:
    _registration_message(
        session, registration, "registration_link", _l("Your personal registration link"), link=link
    )


def session_changed(session: Session, registration: Registration, *, link: str) -> None:
    """Organisers changed the time or place of a session this person is registered for."""
    _registration_message(session, registration, "session_changed", _l("Your session has changed"), link=link)


def session_cancelled(session: Session, registration: Registration, *, link: str) -> None:
    """Organisers cancelled a session this person is registered for."""
    _registration_message(
        session, registration, "session_cancelled", _l("Your session is cancelled"), link=link
    )


def reminder_key(registration: Registration) -> str:
    # The start time is part of the key: if organisers move the session, the new time earns a new reminder.
    return f"reminder:{registration.id}:{registration.session.starts_at:%Y%m%dT%H%M}"


def session_reminder(session: Session, registration: Registration, *, link: str) -> OutboxMessage | None:
    """The day-before reminder; queued at most once per registration and start time (None if already)."""
    return _registration_message(
        session,
        registration,
        "session_reminder",
        _l("Reminder: your session is tomorrow"),
        link=link,
        dedupe_key=reminder_key(registration),
    )


def organiser_message(
    session: Session, registration: Registration, subject: str, body: str, *, link: str
) -> OutboxMessage | None:
    """A message an organiser wrote to everyone registered for a session, wrapped in the person's language."""
    return _registration_message(session, registration, "organiser_message", subject, link=link, body=body)


def comment_decided(session: Session, comment) -> int:
    """Tell a comment's author (if they gave an e-mail) the decision on it, once it is public."""
    return comments_decided(session, [comment])


def comments_decided(session: Session, comments: Sequence, *, now: datetime | None = None) -> int:
    """Tell each author the decision on their comment; returns how many messages were queued.

    Publishing results hands over every decided comment at once, so this works in a fixed number of
    statements whatever their number: one look-up of the messages already queued, one insert of the new
    ones, one update that marks the authors as told. The caller loads each comment's document and item.
    """
    from eventreg.models import Comment  # the models are a leaf, like this module

    now = now or utcnow()
    todo = [c for c in comments if c.email and c.decision is not None]
    if not todo:
        return 0
    # One decision message per comment and decision, even if publishing is triggered twice.
    keys = {c.id: f"comment_decided:{c.id}:{(c.decided_at or now):%Y%m%dT%H%M%S}" for c in todo}
    queued = set(
        session.scalars(
            select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(list(keys.values())))
        )
    )
    base_url = current_app.config["BASE_URL"]
    messages = []
    for comment in todo:
        if keys[comment.id] in queued:
            continue
        with force_locale(comment.language):
            subject = str(_l("The decision on your comment"))
            body_text, body_html = _render(
                "comment_decided",
                comment=comment,
                document=comment.document,
                item=comment.item,
                lang=comment.language,
                subject=subject,
                base_url=base_url,
            )
        messages.append(
            {
                "kind": "comment_decided",
                "recipient": comment.email,
                "subject": subject,
                "body_text": body_text,
                "body_html": body_html,
                "attachments": [],
                "locale": comment.language,
                "dedupe_key": keys[comment.id],
                "message_id": new_message_id(),
            }
        )
    if messages:
        # One executemany: the ids of the new rows are not needed, so nothing is returned row by row.
        session.execute(insert(OutboxMessage), messages)
    session.execute(
        update(Comment)
        .where(Comment.id.in_([c.id for c in todo]))
        .values(outcome_notified_at=now)
        .execution_options(synchronize_session=False)
    )
    for comment in todo:
        set_committed_value(comment, "outcome_notified_at", now)  # the row itself was updated above
    return len(messages)


def notify_published_outcomes(session: Session, document) -> int:
    """When a document's results are published: tell every decided author not told yet. Returns how many."""
    from eventreg.models import Comment

    pending = session.scalars(
        select(Comment)
        .where(
            Comment.document_id == document.id,
            Comment.decision.is_not(None),
            Comment.email.is_not(None),
            Comment.outcome_notified_at.is_(None),
        )
        .options(selectinload(Comment.item), selectinload(Comment.document))
        .order_by(Comment.id)
    ).all()
    return comments_decided(session, pending)


def evaluation_invitation(session: Session, registration: Registration, *, link: str) -> OutboxMessage | None:
    """After the session: the link to its evaluation form. Once per registration (the dedupe key)."""
    return _registration_message(
        session,
        registration,
        "evaluation_invitation",
        _l("How was the session? Please give it your evaluation"),
        link=link,
        dedupe_key=f"evaluation:{registration.id}",
    )

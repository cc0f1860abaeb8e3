"""Putting messages in the outbox, inside the caller's transaction."""

from __future__ import annotations

import secrets
from urllib.parse import urlparse

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from eventreg.mail.validation import check_message
from eventreg.models import OutboxMessage


def new_message_id() -> str:
    """A random Message-ID on our own domain; short, so the header is never folded."""
    host = "eventreg"
    if has_app_context():
        host = urlparse(current_app.config.get("BASE_URL") or "").hostname or host
    return f"<{secrets.token_hex(12)}@{host}>"


def enqueue(
    session: Session,
    *,
    kind: str,
    recipient: str,
    subject: str,
    body_text: str,
    locale: str,
    body_html: str | None = None,
    attachments: list[dict] | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """Add a message to the outbox in the current transaction; the worker sends it after commit.

    With a dedupe_key, a message already queued under that key is not queued again (returns None).
    A message that could never leave (see mail/validation.py) raises Undeliverable and is not queued; a
    registration without an e-mail (a walk-in) has nobody to send to: nothing is queued (returns None).
    """
    if not (recipient or "").strip():
        return None
    smtputf8 = bool(current_app.config.get("MAIL_SMTPUTF8")) if has_app_context() else False
    check_message(recipient, subject, smtputf8=smtputf8)
    if dedupe_key is not None:
        exists = session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
        if exists is not None:
            return None
    message = new_message(
        kind=kind,
        recipient=recipient,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        attachments=attachments,
        locale=locale,
        dedupe_key=dedupe_key,
    )
    session.add(message)
    session.flush()
    return message


def new_message(
    *,
    kind: str,
    recipient: str,
    subject: str,
    body_text: str,
    locale: str,
    body_html: str | None = None,
    attachments: list[dict] | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage:
    """An outbox row, not yet added: for callers that queue many messages in one insert."""
    return OutboxMessage(
        kind=kind,
        recipient=recipient,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        attachments=attachments or [],
        locale=locale,
        dedupe_key=dedupe_key,
        message_id=new_message_id(),
    )

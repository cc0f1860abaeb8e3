"""Sent messages keep their envelope, not their text: bodies carry personal links and are cleared.

After MAIL_BODY_RETENTION_DAYS (default 30) a sent message keeps recipient, subject, kind and dates (the
outbox stays an account of what was sent), while its text, HTML and attachments are emptied.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm import Session

from eventreg.db import require_unit_of_work
from eventreg.models import OutboxMessage, OutboxStatus, utcnow

DEFAULT_RETENTION_DAYS = 30


def retention_days() -> int:
    return int(current_app.config.get("MAIL_BODY_RETENTION_DAYS") or DEFAULT_RETENTION_DAYS)


def clear_sent_bodies(session: Session, *, now: datetime | None = None, days: int | None = None) -> int:
    """Empty the bodies of messages sent more than `days` ago; returns how many. Inside a unit of work."""
    require_unit_of_work(session)
    cutoff = (now or utcnow()) - timedelta(days=retention_days() if days is None else days)
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.SENT.value,
            OutboxMessage.sent_at < cutoff,
            OutboxMessage.body_text != "",
        )
        .values(body_text="", body_html=None, attachments=[])
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0

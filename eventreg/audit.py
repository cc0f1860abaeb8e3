"""The audit log: who changed what, when. Every organiser action that changes data calls `record`."""

from __future__ import annotations

from sqlalchemy.orm import Session

from eventreg.models import AuditEntry, User


def record(
    session: Session,
    user: User | None,
    action: str,
    obj: object | None = None,
    **details,
) -> AuditEntry:
    """Add an audit entry in the caller's transaction (so it is kept exactly when the change is).

    `action` is a dotted verb such as "session.cancel" or "comment.decide"; `details` must be
    JSON-serialisable and must not carry personal data beyond ids.
    """
    entry = AuditEntry(
        user_id=user.id if user is not None else None,
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=getattr(obj, "id", None),
        details=details,
    )
    session.add(entry)
    return entry

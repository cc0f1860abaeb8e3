"""The audit log: who changed what, when. Every organiser action that changes data calls `record`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
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


# --- the log in words: what the admin page shows instead of the stored codes ------------------------

ACTIONS = {
    "comment.decide": _l("Decision recorded on a comment"),
    "comment.enter": _l("Comment entered from paper or a session"),
    "comment.group": _l("Comments grouped"),
    "comment.ungroup": _l("Comment taken out of a group"),
    "comment.hide": _l("Comment hidden"),
    "comment.merge": _l("Comment marked as a duplicate"),
    "comment.publish": _l("Comment published"),
    "consultation.create": _l("Consultation created"),
    "consultation.edit": _l("Consultation changed"),
    "document.import": _l("Document uploaded"),
    "document.publish_results": _l("Results published"),
    "document.unpublish_results": _l("Results withdrawn"),
    "mail.retry": _l("E-mail sent again"),
    "mail.write_to_session": _l("Message written to a session's participants"),
    "registration.check_in": _l("Participant checked in"),
    "registration.check_in_undo": _l("Check-in undone"),
    "registration.status": _l("Registration status changed"),
    "registration.walk_in": _l("Walk-in participant added"),
    "session.cancel": _l("Session cancelled"),
    "session.copy": _l("Session copied"),
    "session.create": _l("Session created"),
    "session.edit": _l("Session changed"),
    "session.publish": _l("Session published"),
    "user.create": _l("Account created"),
    "user.disable": _l("Account disabled"),
    "user.enable": _l("Account enabled"),
    "user.password_reset": _l("Password reset"),
    "user.role": _l("Role changed"),
}

OBJECTS = {
    "Comment": _l("Comment"),
    "CommentGroup": _l("Group of comments"),
    "Consultation": _l("Consultation"),
    "Document": _l("Document"),
    "EventSession": _l("Session"),
    "OutboxMessage": _l("E-mail"),
    "Registration": _l("Registration"),
    "User": _l("Account"),
}

DETAILS = {
    "bulk": _l("several at once"),
    "changed": _l("changed"),
    "comments": _l("comments"),
    "decision": _l("decision"),
    "document": _l("document"),
    "event_session": _l("session"),
    "group": _l("group"),
    "into": _l("duplicate of"),
    "item": _l("item"),
    "key": _l("key"),
    "kind": _l("kind"),
    "new": _l("new"),
    "notified": _l("people notified"),
    "old": _l("before"),
    "over_capacity": _l("over capacity"),
    "previous": _l("before"),
    "promoted": _l("moved up from the waiting list"),
    "reason": _l("reason"),
    "recipients": _l("recipients"),
    "region": _l("region"),
    "role": _l("role"),
    "session_id": _l("session"),
    "slug": _l("address"),
    "source": _l("source"),
}


def action_label(code: str) -> str:
    return str(ACTIONS.get(code, code))


def object_label(code: str) -> str:
    return str(OBJECTS.get(code, code))


def details_in_words(details: dict | None) -> str:
    """'before: new; reason: off-topic' rather than the stored keys; unknown keys are shown as they are."""
    parts = []
    for key, value in (details or {}).items():
        if value is None or value == [] or value is False:
            continue
        if value is True:
            parts.append(str(DETAILS.get(key, key)))
            continue
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        parts.append(f"{DETAILS.get(key, key)}: {value}")
    return "; ".join(parts)


def init_app(app) -> None:
    app.jinja_env.globals.update(
        audit_action_label=action_label, audit_object_label=object_label, audit_details=details_in_words
    )

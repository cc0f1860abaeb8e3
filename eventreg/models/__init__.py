"""All models, importable from one place."""

from eventreg.db import Base

from .accounts import AuditEntry, Role, User
from .api_keys import ApiKey
from .capture import CapturedRow
from .common import utcnow
from .consultation import (
    COUNTED_COMMENT_STATUSES,
    Comment,
    CommentDecisionChange,
    CommentGroup,
    CommentKind,
    CommentSource,
    CommentStatus,
    Decision,
    Document,
    DocumentItem,
    DocumentItemLink,
    HideReason,
    ItemKind,
    ItemRelation,
)
from .evaluation import EvaluationAnswer, EvaluationRound
from .events import (
    Consultation,
    EventSession,
    Registration,
    RegistrationStatus,
    SessionKind,
    SessionStatus,
    Sex,
)
from .mail import OutboxMessage, OutboxStatus

__all__ = [
    "COUNTED_COMMENT_STATUSES",
    "ApiKey",
    "AuditEntry",
    "Base",
    "CapturedRow",
    "Comment",
    "CommentDecisionChange",
    "CommentGroup",
    "CommentKind",
    "CommentSource",
    "CommentStatus",
    "Consultation",
    "EvaluationAnswer",
    "EvaluationRound",
    "Decision",
    "Document",
    "DocumentItem",
    "DocumentItemLink",
    "EventSession",
    "HideReason",
    "ItemKind",
    "ItemRelation",
    "OutboxMessage",
    "OutboxStatus",
    "Registration",
    "RegistrationStatus",
    "Role",
    "SessionKind",
    "SessionStatus",
    "Sex",
    "User",
    "utcnow",
]

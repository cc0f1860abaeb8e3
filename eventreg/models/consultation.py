"""Draft documents, their numbered items, and the comments people make on them."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventreg.db import Base

from .common import LocalizedJSON, StrEnum, UTCDateTime, current_notice_version, utcnow


class ItemKind(StrEnum):
    SECTION = "section"
    CLAUSE = "clause"
    ACTION = "action"  # a row of the action-plan table


class ItemRelation(StrEnum):
    """How an item of a new version descends from an item of the version before it."""

    UNCHANGED = "unchanged", _l("Unchanged")
    CHANGED = "changed", _l("Changed")
    RENUMBERED = "renumbered", _l("Renumbered")  # same wording, another number
    SPLIT = "split", _l("Split")  # one earlier item became several
    MERGED = "merged", _l("Merged")  # several earlier items became one


class CommentKind(StrEnum):
    SUPPORT = "support", _l("Support")
    OBJECTION = "objection", _l("Objection")
    AMENDMENT = "amendment", _l("Amendment")
    QUESTION = "question", _l("Question")
    OTHER = "other", _l("Other")


class CommentSource(StrEnum):
    ONLINE = "online", _l("Online")
    PAPER = "paper", _l("Paper form")
    SPOKEN = "spoken", _l("Spoken at a session")
    LETTER = "letter", _l("Letter")
    EMAIL = "email", _l("E-mail")


class CommentStatus(StrEnum):
    NEW = "new", _l("New")
    PUBLISHED = "published", _l("Published")
    HIDDEN = "hidden", _l("Hidden")
    MERGED = "merged", _l("Duplicate (merged)")  # a duplicate of another comment (duplicate_of_id)


# The comments that count, everywhere a number of comments is shown (document page, reports, results, DOCX):
# received and not hidden as spam or abuse, and not a merged duplicate (the same comment received again,
# counted on its original: reports/entries.py).
COUNTED_COMMENT_STATUSES = (CommentStatus.NEW.value, CommentStatus.PUBLISHED.value)


class HideReason(StrEnum):
    SPAM = "spam", _l("Spam")
    ABUSIVE = "abusive", _l("Abusive")
    OFF_TOPIC = "off_topic", _l("Off-topic")
    PERSONAL_DATA = "personal_data", _l("Contains personal data")


class Decision(StrEnum):
    ACCEPTED = "accepted", _l("Accepted")
    PARTLY_ACCEPTED = "partly_accepted", _l("Partly accepted")
    REJECTED = "rejected", _l("Rejected")
    NOTED = "noted", _l("Noted")


class Document(Base):
    """One version of a draft document. Versions of the same document share `key`."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("consultation_id", "key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[dict] = mapped_column(LocalizedJSON)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    results_published: Mapped[bool] = mapped_column(Boolean, default=False)  # "what we heard" page
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list[DocumentItem]] = relationship(
        back_populates="document", order_by="DocumentItem.position"
    )


class DocumentItem(Base):
    """A numbered, commentable part of a document: a section, a clause or an action-plan row.

    `text` holds the item's text per language; action-plan rows keep their columns in `fields`
    as {"activity": {"ru": ...}, "indicator": {...}, "responsible": {...}, "deadline": {...},
    "funding": {...}}.
    """

    __tablename__ = "document_items"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    number: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer, default=1)
    kind: Mapped[str] = mapped_column(String(20), default=ItemKind.CLAUSE.value)
    heading: Mapped[dict] = mapped_column(LocalizedJSON, default=dict)
    text: Mapped[dict] = mapped_column(LocalizedJSON, default=dict)
    fields: Mapped[dict] = mapped_column(LocalizedJSON, default=dict)

    document: Mapped[Document] = relationship(back_populates="items")


class DocumentItemLink(Base):
    """An item of a version and the item(s) of the previous version it comes from.

    Suggested by matching numbers and wording when the version is imported, corrected by the organiser in
    the preview. An item without links is new; an earlier item that no link names was removed. Comments stay
    on the item (and wording) they were made on; these links carry them forward to the later versions.
    """

    __tablename__ = "document_item_links"
    __table_args__ = (UniqueConstraint("item_id", "ancestor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("document_items.id"), index=True)
    ancestor_id: Mapped[int] = mapped_column(ForeignKey("document_items.id"), index=True)
    relation: Mapped[str] = mapped_column(String(20))


class CommentGroup(Base):
    """Near-identical comments (a campaign, the same text sent by many) decided together."""

    __tablename__ = "comment_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_document_item_status", "document_id", "item_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("document_items.id"))  # None: whole document
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    proposed_wording: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    # Who is speaking.
    author_name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(300))
    sector: Mapped[str] = mapped_column(String(40))
    region: Mapped[str] = mapped_column(String(8))
    sex: Mapped[str] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    show_name: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_notice_version: Mapped[str | None] = mapped_column(String(20), default=current_notice_version)
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registrations.id"))
    # How it reached us.
    source: Mapped[str] = mapped_column(String(20), default=CommentSource.ONLINE.value)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("event_sessions.id"))
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Moderation.
    status: Mapped[str] = mapped_column(String(20), default=CommentStatus.NEW.value, index=True)
    hidden_reason: Mapped[str | None] = mapped_column(String(20))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("comment_groups.id"), index=True)
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The drafters' decision (history in CommentDecisionChange).
    decision: Mapped[str | None] = mapped_column(String(20), index=True)
    # Which part, for partly accepted; per language like the justification ({"ky": "…", "ru": "…"}).
    decision_part: Mapped[dict] = mapped_column(LocalizedJSON, default=dict)
    justification: Mapped[dict] = mapped_column(LocalizedJSON, default=dict)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    document: Mapped[Document] = relationship()
    item: Mapped[DocumentItem | None] = relationship()


class CommentDecisionChange(Base):
    """Every decision ever recorded on a comment, with who and when."""

    __tablename__ = "comment_decision_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), index=True)
    decision: Mapped[str] = mapped_column(String(20))
    decision_part: Mapped[dict] = mapped_column(LocalizedJSON, default=dict)
    justification: Mapped[dict] = mapped_column(LocalizedJSON, default=dict)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

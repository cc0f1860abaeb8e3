"""Comment rules. `create_comment` is the one way a comment enters the system: online, or typed in by an
organiser from paper, a letter or what was said at a session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from eventreg.db import checks_done, lock_one
from eventreg.models import (
    COUNTED_COMMENT_STATUSES,
    Comment,
    CommentKind,
    CommentSource,
    CommentStatus,
    Consultation,
    Document,
    DocumentItem,
    Registration,
    User,
    utcnow,
)
from eventreg.vocabulary import REGIONS, SECTORS, label

if TYPE_CHECKING:
    from eventreg.reports.queries import CommentRow

# Limits shared by the public form and the organiser's paper-entry screen.
BODY_MAX = 5000
WORDING_MAX = 5000


class CommentError(Exception):
    """A comment that cannot be accepted; the view turns it into a message."""


class CommentsClosed(CommentError):
    """The consultation is not (or no longer) taking comments."""


@dataclass
class CommentAuthor:
    name: str
    sector: str
    region: str
    sex: str
    organisation: str | None = None
    email: str | None = None
    show_name: bool = False
    consented: bool = True
    registration_id: int | None = None


def create_comment(
    session: Session,
    document_id: int,
    item_id: int | None,
    *,
    kind: str,
    body: str,
    language: str,
    author: CommentAuthor,
    proposed_wording: str | None = None,
    source: str = CommentSource.ONLINE.value,
    event_session_id: int | None = None,
    entered_by: User | None = None,
    now: datetime | None = None,
) -> Comment:
    """Store a new comment (status "new", waiting for moderation) in the caller's unit of work.

    Online comments are accepted only while the consultation is open; organisers entering comments
    given on paper or at a session (entered_by set) may do so after it closes. The consultation row is
    read-locked, so nobody closes it between the check and the insert.
    """
    now = now or utcnow()
    if kind not in {k.value for k in CommentKind}:
        raise CommentError(f"unknown comment kind {kind!r}")
    if not body.strip() or len(body) > BODY_MAX or len(proposed_wording or "") > WORDING_MAX:
        raise CommentError("comment empty or too long")
    # The document's consultation and whether the item is the document's, in one statement: on SQLite
    # everything in the unit of work runs under the write lock.
    found = session.execute(
        select(Document.consultation_id, DocumentItem.document_id)
        .outerjoin(DocumentItem, DocumentItem.id == item_id)
        .where(Document.id == document_id)
    ).first()
    if found is None:
        raise CommentError("no such document")
    consultation_id, item_document = found
    if item_id is not None and item_document != document_id:
        raise CommentError("item does not belong to the document")
    consultation = lock_one(session, Consultation, consultation_id, shared=True)
    if entered_by is None and not consultation.comments_open(now):
        raise CommentsClosed()
    checks_done(session)
    comment = Comment(
        document_id=document_id,
        item_id=item_id,
        kind=kind,
        body=body.strip(),
        proposed_wording=(proposed_wording or "").strip() or None,
        language=language,
        author_name=author.name.strip(),
        organisation=(author.organisation or "").strip() or None,
        sector=author.sector,
        region=author.region,
        sex=author.sex,
        email=(author.email or "").strip() or None,
        show_name=author.show_name,
        consent_at=now if author.consented else None,
        registration_id=author.registration_id,
        source=source,
        session_id=event_session_id,
        entered_by_id=entered_by.id if entered_by is not None else None,
        created_at=now,
    )
    session.add(comment)
    session.flush()
    return comment


def find_document(
    session: Session, consultation: Consultation, key: str, version: int | None = None
) -> Document | None:
    """The current version of a document, or the named earlier version."""
    stmt = select(Document).where(Document.consultation_id == consultation.id, Document.key == key)
    if version is None:
        stmt = stmt.where(Document.is_current.is_(True))
    else:
        stmt = stmt.where(Document.version == version)
    return session.scalars(stmt).first()


def comment_counts(session: Session, document_id: int) -> dict[int | None, int]:
    """Comments per item of one document version (key None: general comments), in one grouped query.

    What counts is what the reports count: received, not hidden, not a merged duplicate.
    """
    rows = session.execute(
        select(Comment.item_id, func.count(Comment.id))
        .where(Comment.document_id == document_id, Comment.status.in_(COUNTED_COMMENT_STATUSES))
        .group_by(Comment.item_id)
    )
    return dict(rows.all())


def published_comments(session: Session, document_id: int) -> dict[int | None, list[Comment]]:
    """Published comments of a document version grouped by item, oldest first, in one query."""
    grouped: dict[int | None, list[Comment]] = {}
    stmt = (
        select(Comment)
        .where(Comment.document_id == document_id, Comment.status == CommentStatus.PUBLISHED.value)
        .order_by(Comment.created_at, Comment.id)
    )
    for comment in session.scalars(stmt):
        grouped.setdefault(comment.item_id, []).append(comment)
    return grouped


def public_author_text(
    *, show_name: bool, name: str | None, organisation: str | None, sector: str | None, region: str | None
) -> str:
    """Who a published comment is shown as, on every page and in every document that shows it.

    The name only if the author agreed; then the organisation, the sector and the region (labels in the
    reader's language; values that are already labels pass through). The one rule for the document page,
    the results page and the ministry's table of comments.
    """
    who = (name or "").strip() if show_name else ""
    organisation = (organisation or "").strip()
    # Neither a name nor an organisation: the reader is told it is a participant, then the sector and region.
    parts = [who, organisation] if who or organisation else [str(_l("Participant"))]
    parts += [label(SECTORS, sector), label(REGIONS, region)]
    return ", ".join(part for part in parts if part)


def public_author(comment: Comment | CommentRow) -> str:
    """A comment's author as the public pages show it; a report row (reports.queries.CommentRow) alike."""
    return public_author_text(
        show_name=comment.show_name,
        name=comment.author_name,
        organisation=comment.organisation,
        sector=comment.sector,
        region=comment.region,
    )


def author_from_registration(registration: Registration) -> CommentAuthor:
    """A registered participant's details, so they comment through their personal link without retyping."""
    return CommentAuthor(
        name=registration.full_name,
        organisation=registration.organisation,
        sector=registration.sector,
        region=registration.region,
        sex=registration.sex,
        email=registration.email,
        registration_id=registration.id,
    )

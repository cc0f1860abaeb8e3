"""Comment rules. `create_comment` is the one way a comment enters the system: online, or typed in by an
organiser from paper, a letter or what was said at a session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from eventreg.models import Comment, CommentSource, Consultation, Document, DocumentItem, User, utcnow


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
    document: Document,
    item: DocumentItem | None,
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
    """Store a new comment (status "new", waiting for moderation) and commit.

    Online comments are accepted only while the consultation is open; organisers entering comments
    given on paper or at a session (entered_by set) may do so after it closes.
    """
    now = now or utcnow()
    if item is not None and item.document_id != document.id:
        raise CommentError("item does not belong to the document")
    if entered_by is None:
        consultation = session.get(Consultation, document.consultation_id)
        if not consultation.comments_open(now):
            raise CommentsClosed()
    comment = Comment(
        document_id=document.id,
        item_id=item.id if item is not None else None,
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
    session.commit()
    return comment

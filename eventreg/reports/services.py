"""Publishing a document's results, and the public "what we heard" page built from them."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from eventreg import audit
from eventreg.consultation.services import public_author_text
from eventreg.db import lock_one
from eventreg.i18n import localized
from eventreg.mail import notify
from eventreg.models import Comment, CommentStatus, Consultation, Document, DocumentItem, User
from eventreg.reports.queries import ReportError


class DocumentNotFound(ReportError):
    pass


def _locked_document(session: Session, document_id: int) -> Document:
    document = lock_one(session, Document, document_id)
    if document is None:
        raise DocumentNotFound(document_id)
    return document


def publish_results(session: Session, document_id: int, by: User) -> int:
    """Make the document's "what we heard" page public and tell decided authors, in the caller's unit.

    Returns how many authors were sent the decision on their comment. Publishing twice changes nothing
    the second time (and tells nobody twice: the notifier skips authors already told). The messages are
    queued in a number of statements that does not grow with the number of comments, so the write lock
    is held briefly however many comments there are.
    """
    document = _locked_document(session, document_id)
    if document.results_published:
        return 0
    document.results_published = True
    notified = notify.notify_published_outcomes(session, document)
    audit.record(session, by, "document.publish_results", document, notified=notified)
    session.flush()
    return notified


def unpublish_results(session: Session, document_id: int, by: User) -> None:
    document = _locked_document(session, document_id)
    if not document.results_published:
        return
    document.results_published = False
    audit.record(session, by, "document.unpublish_results", document)
    session.flush()


def published_document(
    session: Session, consultation_slug: str, key: str, version: int | None = None
) -> Document | None:
    """The newest published version of a document (or the named one, if published), else None."""
    stmt = (
        select(Document)
        .join(Consultation, Consultation.id == Document.consultation_id)
        .where(Consultation.slug == consultation_slug, Document.key == key, Document.results_published)
    )
    if version is not None:
        stmt = stmt.where(Document.version == version)
    return session.scalars(stmt.order_by(Document.version.desc()).limit(1)).first()


def published_versions(session: Session, document: Document) -> list[int]:
    """Every version of the document whose results are public: each keeps its page when a newer one is."""
    return list(
        session.scalars(
            select(Document.version)
            .where(
                Document.consultation_id == document.consultation_id,
                Document.key == document.key,
                Document.results_published,
            )
            .order_by(Document.version)
        )
    )


@dataclass
class HeardDecision:
    kind: str
    body: str
    proposed_wording: str
    author: str  # empty unless the author agreed to be named
    decision: str
    decision_part: str
    justification: str


@dataclass
class HeardItem:
    number: str
    heading: str
    counts: dict[str, int]
    decisions: list[HeardDecision] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def what_we_heard(session: Session, document: Document, lang: str) -> list[HeardItem]:
    """Per item in document order: how many published comments of each kind, and the decisions taken.

    Only published (moderated) comments appear. Names and organisations appear only where the author
    ticked "show my name"; e-mail, sex and other details never do.
    """
    published = (Comment.document_id == document.id, Comment.status == CommentStatus.PUBLISHED.value)
    counts: dict[int | None, dict[str, int]] = {}
    for item_id, kind, n in session.execute(
        select(Comment.item_id, Comment.kind, func.count(Comment.id))
        .where(*published)
        .group_by(Comment.item_id, Comment.kind)
    ):
        counts.setdefault(item_id, {})[kind] = n
    if not counts:
        return []
    items: dict[int | None, HeardItem] = {}
    if None in counts:
        items[None] = HeardItem("", "", counts[None])
    for item_id, number, heading, text in session.execute(
        select(DocumentItem.id, DocumentItem.number, DocumentItem.heading, DocumentItem.text)
        .where(DocumentItem.id.in_([i for i in counts if i is not None]))
        .order_by(DocumentItem.position)
    ):
        words = str(localized(heading, lang)) or str(localized(text, lang))
        items[item_id] = HeardItem(number, " ".join(words.split())[:200], counts[item_id])
    for row in session.execute(
        select(
            Comment.item_id,
            Comment.kind,
            Comment.body,
            Comment.proposed_wording,
            Comment.show_name,
            Comment.author_name,
            Comment.organisation,
            Comment.sector,
            Comment.region,
            Comment.decision,
            Comment.decision_part,
            Comment.justification,
        )
        .where(*published, Comment.decision.is_not(None))
        .order_by(Comment.id)
    ):
        (item_id, kind, body, proposed, show_name, name, organisation, sector, region) = row[:9]
        decision, part, justification = row[9:]
        author = public_author_text(
            show_name=show_name, name=name, organisation=organisation, sector=sector, region=region
        )
        items[item_id].decisions.append(
            HeardDecision(
                kind=kind,
                body=body,
                proposed_wording=proposed or "",
                author=author,
                decision=decision,
                decision_part=part or "",
                justification=str(localized(justification, lang)) if justification else "",
            )
        )
    return list(items.values())

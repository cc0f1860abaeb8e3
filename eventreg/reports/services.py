"""Publishing a document's results, and the public "what we heard" page built from them."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from eventreg import audit
from eventreg.db import lock_one
from eventreg.mail import notify
from eventreg.models import CommentStatus, Consultation, Document, User
from eventreg.reports.entries import Entry, comment_entries
from eventreg.reports.queries import Filters, ReportError


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
class HeardItem:
    number: str
    heading: str
    counts: dict[str, int] = field(default_factory=dict)  # published comments by kind
    entries: list[Entry] = field(default_factory=list)  # the decided ones, by the rule in reports.entries

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def what_we_heard(session: Session, document: Document, lang: str) -> list[HeardItem]:
    """Per item in document order: how many published comments of each kind, and the decisions taken.

    Only published (moderated) comments appear, listed and counted by the one rule of `reports.entries`
    (a group of near-identical comments once with its count and authors; duplicates counted into their
    original), as in the table of comments. Names appear only where the author ticked "show my name";
    e-mail, sex and other details never do.
    """
    published = (CommentStatus.PUBLISHED.value,)
    entries = comment_entries(session, Filters(document_id=document.id), lang, published)
    items: dict[int | None, HeardItem] = {}
    for entry in entries:
        first = entry.first
        item = items.get(first.item_id)
        if item is None:
            heading = " ".join((first.item_heading or first.item_text).split())[:200]
            item = items[first.item_id] = HeardItem(first.item_number, heading)
        for comment in entry.comments:
            item.counts[comment.kind_code] = item.counts.get(comment.kind_code, 0) + 1
        if first.decision_code is not None:
            item.entries.append(entry)
    # Comments on the document as a whole first, then the items in document order (the records' order).
    return list(items.values())

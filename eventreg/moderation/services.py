"""Moderation and decision rules for comments.

Nothing here deletes a comment: hiding and merging only change its status, so every comment stays
retrievable and can be published again. Every change is written to the audit log in the same
transaction as the change itself, and every decision ever recorded is kept in CommentDecisionChange.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from eventreg import audit
from eventreg.consultation.services import CommentAuthor, create_comment
from eventreg.db import checks_done, lock_all, lock_one
from eventreg.mail import notify
from eventreg.models import (
    Comment,
    CommentDecisionChange,
    CommentGroup,
    CommentSource,
    CommentStatus,
    Decision,
    Document,
    DocumentItem,
    EventSession,
    HideReason,
    User,
    utcnow,
)

# How alike two normalised texts must be to be suggested as one group (difflib ratio).
SIMILARITY_THRESHOLD = 0.9


class ModerationError(Exception):
    """A moderation or decision request that cannot be carried out; the view turns it into a message."""


class InvalidHideReason(ModerationError):
    pass


class InvalidMerge(ModerationError):
    def __init__(self, reason: str):
        super().__init__(reason)
        # "self", "other_document", "target_merged", "not_found"
        self.reason = reason


class UnknownDecision(ModerationError):
    pass


class ReasonRequired(ModerationError):
    """A rejection needs its reason, written in the language of the comment (or of each comment)."""

    def __init__(self, languages: Sequence[str]):
        super().__init__(", ".join(languages))
        self.languages = list(languages)


class PartRequired(ModerationError):
    """ "Partly accepted" must say which part, in the language of the comment (or of each comment)."""

    def __init__(self, languages: Sequence[str]):
        super().__init__(", ".join(languages))
        self.languages = list(languages)


class NotDecidable(ModerationError):
    """Hidden comments and merged duplicates are not decided on (the original carries the decision)."""


class InvalidGroup(ModerationError):
    def __init__(self, reason: str):
        super().__init__(reason)
        # "too_few", "other_document", "already_grouped", "not_groupable"
        self.reason = reason


class UnknownItem(ModerationError):
    """Paper entry named an item number the document does not have."""


class SessionMismatch(ModerationError):
    """Paper entry named a session of another consultation."""


class CommentNotFound(ModerationError):
    pass


# --- the queue ------------------------------------------------------------------------------------

PAGE_SIZE = 100


@dataclass
class QueueFilters:
    document_id: int | None = None
    item_number: str = ""
    status: str | None = CommentStatus.NEW.value  # None: every status
    kind: str | None = None
    source: str | None = None
    session_id: int | None = None


def queue_page(session: Session, filters: QueueFilters, page: int) -> tuple[list, bool]:
    """One page of the moderation queue, oldest first (whoever wrote first has waited longest).

    Returns (rows of (comment, item), whether a next page exists).
    """
    stmt = select(Comment, DocumentItem).outerjoin(DocumentItem, DocumentItem.id == Comment.item_id)
    if filters.document_id is not None:
        stmt = stmt.where(Comment.document_id == filters.document_id)
    if filters.item_number:
        number = filters.item_number.rstrip(".")
        stmt = stmt.where(DocumentItem.number.in_([number, number + "."]))
    if filters.status is not None:
        stmt = stmt.where(Comment.status == filters.status)
    if filters.kind is not None:
        stmt = stmt.where(Comment.kind == filters.kind)
    if filters.source is not None:
        stmt = stmt.where(Comment.source == filters.source)
    if filters.session_id is not None:
        stmt = stmt.where(Comment.session_id == filters.session_id)
    stmt = stmt.order_by(Comment.created_at, Comment.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    rows = session.execute(stmt).all()
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


# --- moderation -----------------------------------------------------------------------------------


def _lock_comments(session: Session, comment_ids: Iterable[int]) -> list[Comment]:
    """The comments, locked in id order (one order everywhere, so two organisers never deadlock)."""
    ids = sorted({int(i) for i in comment_ids})
    if not ids:
        return []
    return lock_all(session, select(Comment).where(Comment.id.in_(ids)).order_by(Comment.id))


def _lock_comment(session: Session, comment_id: int) -> Comment:
    comment = lock_one(session, Comment, comment_id)
    if comment is None:
        raise CommentNotFound(comment_id)
    return comment


def _publish(session: Session, comment: Comment, by: User, now: datetime, **audit_details) -> bool:
    if comment.status == CommentStatus.PUBLISHED:
        return False
    previous = comment.status
    comment.status = CommentStatus.PUBLISHED.value
    comment.hidden_reason = None
    comment.duplicate_of_id = None
    comment.moderated_at = now
    audit.record(session, by, "comment.publish", comment, previous=previous, **audit_details)
    return True


def _hide(session: Session, comment: Comment, reason: str, by: User, now: datetime, **audit_details) -> bool:
    if comment.status == CommentStatus.HIDDEN and comment.hidden_reason == reason:
        return False
    previous = comment.status
    comment.status = CommentStatus.HIDDEN.value
    comment.hidden_reason = reason
    comment.duplicate_of_id = None
    comment.moderated_at = now
    audit.record(session, by, "comment.hide", comment, previous=previous, reason=reason, **audit_details)
    return True


def publish_comment(session: Session, comment_id: int, *, by: User) -> bool:
    """Make a comment public (also re-publishes a hidden or merged one). Returns False if it already was."""
    comment = _lock_comment(session, comment_id)
    checks_done(session)
    changed = _publish(session, comment, by, utcnow())
    session.flush()
    return changed


def bulk_publish(session: Session, comment_ids: Iterable[int], *, by: User) -> int:
    """Publish several comments at once; returns how many changed."""
    now = utcnow()
    changed = sum(_publish(session, c, by, now, bulk=True) for c in _lock_comments(session, comment_ids))
    session.flush()
    return changed


def hide_comment(session: Session, comment_id: int, reason: str, *, by: User) -> None:
    """Take a comment off the public pages, keeping it (and the reason) for the record."""
    if reason not in HideReason.__members__.values():
        raise InvalidHideReason(reason)
    comment = _lock_comment(session, comment_id)
    checks_done(session)
    _hide(session, comment, reason, by, utcnow())
    session.flush()


def bulk_hide(session: Session, comment_ids: Iterable[int], reason: str, *, by: User) -> int:
    if reason not in HideReason.__members__.values():
        raise InvalidHideReason(reason)
    now = utcnow()
    changed = sum(_hide(session, c, reason, by, now, bulk=True) for c in _lock_comments(session, comment_ids))
    session.flush()
    return changed


def merge_comment(session: Session, comment_id: int, into_id: int | None, *, by: User) -> None:
    """Mark a comment as a duplicate of another. Its own duplicates move too, so there are no chains.

    Both comments are locked and re-read first: when two organisers merge A into B and B into A at the
    same moment, the second finds its target already merged and is refused.
    """
    if into_id is None:
        raise InvalidMerge("not_found")
    if into_id == comment_id:
        raise InvalidMerge("self")
    locked = {c.id: c for c in _lock_comments(session, [comment_id, into_id])}
    comment, into = locked.get(comment_id), locked.get(into_id)
    if comment is None:
        raise CommentNotFound(comment_id)
    if into is None:
        raise InvalidMerge("not_found")
    if into.document_id != comment.document_id:
        raise InvalidMerge("other_document")
    if into.status == CommentStatus.MERGED:
        raise InvalidMerge("target_merged")
    checks_done(session)
    previous = comment.status
    comment.status = CommentStatus.MERGED.value
    comment.duplicate_of_id = into.id
    comment.hidden_reason = None
    comment.moderated_at = utcnow()
    moved = lock_all(
        session, select(Comment).where(Comment.duplicate_of_id == comment.id).order_by(Comment.id)
    )
    for duplicate in moved:
        duplicate.duplicate_of_id = into.id
    audit.record(
        session,
        by,
        "comment.merge",
        comment,
        previous=previous,
        into=into.id,
        moved=[d.id for d in moved],
    )
    session.flush()


def duplicates_of(session: Session, comment_id: int) -> list[Comment]:
    return list(
        session.scalars(select(Comment).where(Comment.duplicate_of_id == comment_id).order_by(Comment.id))
    )


# --- decisions ------------------------------------------------------------------------------------


def _clean_texts(texts: dict | None) -> dict[str, str]:
    return {lang: text.strip() for lang, text in (texts or {}).items() if text and text.strip()}


def _check_decision(comments: Sequence[Comment], decision: str, justification: dict, part: dict) -> None:
    if decision not in Decision.__members__.values():
        raise UnknownDecision(decision)
    for comment in comments:
        if comment.status in (CommentStatus.HIDDEN, CommentStatus.MERGED):
            raise NotDecidable(comment.id)
    if decision == Decision.PARTLY_ACCEPTED:
        # Which part is taken in must be readable by the person who wrote the comment, like a reason.
        missing = sorted({c.language for c in comments if not part.get(c.language)})
        if missing or not part:
            raise PartRequired(missing)
    if decision == Decision.REJECTED:
        # The reason must be readable by the person who wrote the comment, in their language.
        missing = sorted({c.language for c in comments if not justification.get(c.language)})
        if missing:
            raise ReasonRequired(missing)


def _apply_decision(
    session: Session,
    comment: Comment,
    decision: str,
    justification: dict[str, str],
    part: dict[str, str],
    by: User,
    now: datetime,
    **audit_details,
) -> CommentDecisionChange | None:
    if (
        comment.decision == decision
        and (comment.decision_part or {}) == part
        and (comment.justification or {}) == justification
    ):
        return None  # the same decision submitted twice is not a change
    previous = comment.decision
    comment.decision = decision
    comment.decision_part = part
    comment.justification = justification
    comment.decided_at = now
    comment.decided_by_id = by.id
    change = CommentDecisionChange(
        comment_id=comment.id,
        decision=decision,
        decision_part=part,
        justification=justification,
        user_id=by.id,
        created_at=now,
    )
    session.add(change)
    audit.record(
        session, by, "comment.decide", comment, decision=decision, previous=previous, **audit_details
    )
    return change


def _tell_authors_if_public(session: Session, comments: Sequence[Comment]) -> None:
    # Results already public: the authors hear about a (changed) decision straight away. Before that,
    # publishing the results tells everyone at once.
    if not comments:
        return
    published = set(
        session.scalars(
            select(Document.id).where(
                Document.id.in_({c.document_id for c in comments}), Document.results_published.is_(True)
            )
        )
    )
    notify.comments_decided(session, [c for c in comments if c.document_id in published and c.email])


def _normalise_decision(justification: dict | None, part: dict | None, decision: str):
    """Both texts per language, trimmed, without empty languages; a part only for "partly accepted"."""
    justification = _clean_texts(justification)
    part = _clean_texts(part) if decision == Decision.PARTLY_ACCEPTED else {}
    return justification, part


def decide_comment(
    session: Session,
    comment_id: int,
    decision: str,
    justification: dict | None,
    part: dict | None,
    by: User,
) -> CommentDecisionChange | None:
    """Record the drafters' decision on one comment. Returns the history row, or None if nothing changed.

    `justification` and `part` are texts per language ({"ky": "…", "ru": "…"}).
    Raises PartRequired for "partly accepted" without the part in the comment's language, ReasonRequired for "rejected" without
    a justification in the comment's language, NotDecidable for hidden or merged comments. Two decisions
    at the same moment are both kept in the history; the later one is the current one.
    """
    justification, part = _normalise_decision(justification, part, decision)
    comment = _lock_comment(session, comment_id)
    _check_decision([comment], decision, justification, part)
    checks_done(session)
    change = _apply_decision(session, comment, decision, justification, part, by, utcnow())
    session.flush()
    if change is not None:
        _tell_authors_if_public(session, [comment])
    return change


def decision_history(session: Session, comment_id: int) -> list[tuple[CommentDecisionChange, User | None]]:
    rows = session.execute(
        select(CommentDecisionChange, User)
        .outerjoin(User, User.id == CommentDecisionChange.user_id)
        .where(CommentDecisionChange.comment_id == comment_id)
        .order_by(CommentDecisionChange.created_at.desc(), CommentDecisionChange.id.desc())
    )
    return [(change, user) for change, user in rows.all()]


# --- groups ---------------------------------------------------------------------------------------

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_text(text: str) -> str:
    """The form in which two comments are compared: case, punctuation and spacing do not count."""
    text = unicodedata.normalize("NFKC", text or "").casefold().replace("ё", "е")
    return _NON_WORD.sub(" ", text).strip()


def similar(a: str, b: str) -> bool:
    if a == b:
        return True
    if not a or not b:
        return False
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    # The cheap upper bounds first: most pairs are far apart.
    return (
        matcher.real_quick_ratio() >= SIMILARITY_THRESHOLD
        and matcher.quick_ratio() >= SIMILARITY_THRESHOLD
        and matcher.ratio() >= SIMILARITY_THRESHOLD
    )


@dataclass
class GroupSuggestion:
    document_id: int
    item_id: int | None
    comments: list[Comment] = field(default_factory=list)

    @property
    def label(self) -> str:
        text = " ".join(self.comments[0].body.split())
        return text if len(text) <= 80 else text[:79] + "…"


_GROUPABLE = (CommentStatus.NEW.value, CommentStatus.PUBLISHED.value)


def find_group_candidates(session: Session, document_id: int | None = None) -> list[GroupSuggestion]:
    """Sets of two or more ungrouped comments on the same item whose texts are equal or nearly equal."""
    stmt = (
        select(Comment)
        .where(Comment.group_id.is_(None), Comment.status.in_(_GROUPABLE))
        .order_by(Comment.document_id, Comment.item_id, Comment.created_at, Comment.id)
    )
    if document_id is not None:
        stmt = stmt.where(Comment.document_id == document_id)
    buckets: dict[tuple[int, int | None], list[Comment]] = {}
    for comment in session.scalars(stmt):
        buckets.setdefault((comment.document_id, comment.item_id), []).append(comment)

    suggestions: list[GroupSuggestion] = []
    for (doc_id, item_id), comments in buckets.items():
        clusters: list[tuple[str, GroupSuggestion]] = []  # (normalised text of the first comment, cluster)
        for comment in comments:
            text = normalise_text(comment.body)
            for representative, cluster in clusters:
                if similar(representative, text):
                    cluster.comments.append(comment)
                    break
            else:
                clusters.append((text, GroupSuggestion(doc_id, item_id, [comment])))
        suggestions.extend(cluster for _, cluster in clusters if len(cluster.comments) > 1)
    suggestions.sort(key=lambda s: (-len(s.comments), s.comments[0].created_at))
    return suggestions


def create_group(session: Session, comment_ids: Iterable[int], label: str, *, by: User) -> CommentGroup:
    comments = _lock_comments(session, comment_ids)
    if len(comments) < 2:
        raise InvalidGroup("too_few")
    if len({c.document_id for c in comments}) != 1:
        raise InvalidGroup("other_document")
    if any(c.group_id is not None for c in comments):
        raise InvalidGroup("already_grouped")
    if any(c.status not in _GROUPABLE for c in comments):
        raise InvalidGroup("not_groupable")
    checks_done(session)
    label = (
        " ".join((label or "").split())[:200] or GroupSuggestion(0, None, sorted(comments, key=_age)).label
    )
    group = CommentGroup(document_id=comments[0].document_id, label=label)
    session.add(group)
    session.flush()
    for comment in comments:
        comment.group_id = group.id
    audit.record(session, by, "comment.group", group, comments=[c.id for c in comments])
    session.flush()
    return group


def _age(comment: Comment):
    return (comment.created_at, comment.id)


def remove_from_group(session: Session, comment_id: int, *, by: User) -> None:
    comment = _lock_comment(session, comment_id)
    if comment.group_id is None:
        return
    checks_done(session)
    group_id = comment.group_id
    comment.group_id = None
    audit.record(session, by, "comment.ungroup", comment, group=group_id)
    session.flush()


def group_comments(session: Session, group_id: int, *, lock: bool = False) -> list[Comment]:
    stmt = select(Comment).where(Comment.group_id == group_id).order_by(Comment.created_at, Comment.id)
    if lock:
        return sorted(lock_all(session, stmt.order_by(None).order_by(Comment.id)), key=_age)
    return list(session.scalars(stmt))


def group_sizes(session: Session, group_ids: Sequence[int]) -> dict[int, int]:
    if not group_ids:
        return {}
    rows = session.execute(
        select(Comment.group_id, func.count(Comment.id))
        .where(Comment.group_id.in_(group_ids))
        .group_by(Comment.group_id)
    )
    return dict(rows.all())


def decide_group(
    session: Session,
    group_id: int,
    decision: str,
    justification: dict | None,
    part: dict | None,
    by: User,
) -> int:
    """Apply one decision to every decidable comment in the group; each gets its own history row.

    Hidden and merged members are skipped (they are not decided on). Returns how many changed.
    """
    justification, part = _normalise_decision(justification, part, decision)
    members = [
        c
        for c in group_comments(session, group_id, lock=True)
        if c.status not in (CommentStatus.HIDDEN, CommentStatus.MERGED)
    ]
    _check_decision(members, decision, justification, part)
    checks_done(session)
    now = utcnow()
    changed = [
        c
        for c in members
        if _apply_decision(session, c, decision, justification, part, by, now, group=group_id)
    ]
    session.flush()
    _tell_authors_if_public(session, changed)
    return len(changed)


# --- paper entry ----------------------------------------------------------------------------------

_TRAILING_DOT = re.compile(r"\.+$")

PAPER_SOURCES = tuple(s.value for s in CommentSource if s != CommentSource.ONLINE)


def find_item(session: Session, document: Document, number: str | None) -> DocumentItem | None:
    """The item with this number ("3.1" and "3.1." are the same); None for an empty number."""
    number = _TRAILING_DOT.sub("", (number or "").strip())
    if not number:
        return None
    item = session.scalars(
        select(DocumentItem).where(
            DocumentItem.document_id == document.id, DocumentItem.number.in_([number, number + "."])
        )
    ).first()
    if item is None:
        raise UnknownItem(number)
    return item


def enter_comment(
    session: Session,
    document_id: int,
    item_number: str | None,
    *,
    kind: str,
    body: str,
    language: str,
    author: CommentAuthor,
    proposed_wording: str | None,
    source: str,
    event_session_id: int | None,
    by: User,
) -> Comment:
    """Type in a comment given on paper, aloud at a session, by letter or e-mail, on someone's behalf."""
    document = session.get(Document, document_id)
    if document is None:
        raise UnknownItem(item_number or "")
    item = find_item(session, document, item_number)
    if event_session_id is not None:
        consultation_id = session.scalar(
            select(EventSession.consultation_id).where(EventSession.id == event_session_id)
        )
        if consultation_id != document.consultation_id:
            raise SessionMismatch(event_session_id)
    comment = create_comment(
        session,
        document.id,
        item.id if item else None,
        kind=kind,
        body=body,
        language=language,
        author=author,
        proposed_wording=proposed_wording,
        source=source,
        event_session_id=event_session_id,
        entered_by=by,
    )
    audit.record(
        session,
        by,
        "comment.enter",
        comment,
        source=source,
        document=document.id,
        item=item.id if item else None,
        event_session=event_session_id,
    )
    session.flush()
    return comment

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

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from eventreg import audit
from eventreg.consultation.services import CommentAuthor, create_comment
from eventreg.db import write_transaction
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
    """ "Partly accepted" must say which part."""


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


# --- moderation -----------------------------------------------------------------------------------


def publish_comment(session: Session, comment: Comment, *, by: User) -> bool:
    """Make a comment public (also re-publishes a hidden or merged one). Returns False if it already was."""
    if comment.status == CommentStatus.PUBLISHED:
        return False
    with write_transaction(session):
        previous = comment.status
        comment.status = CommentStatus.PUBLISHED.value
        comment.hidden_reason = None
        comment.duplicate_of_id = None
        comment.moderated_at = utcnow()
        audit.record(session, by, "comment.publish", comment, previous=previous)
    return True


def bulk_publish(session: Session, comments: Iterable[Comment], *, by: User) -> int:
    """Publish several comments in one transaction; returns how many changed."""
    changed = 0
    with write_transaction(session):
        now = utcnow()
        for comment in comments:
            if comment.status == CommentStatus.PUBLISHED:
                continue
            previous = comment.status
            comment.status = CommentStatus.PUBLISHED.value
            comment.hidden_reason = None
            comment.duplicate_of_id = None
            comment.moderated_at = now
            audit.record(session, by, "comment.publish", comment, previous=previous, bulk=True)
            changed += 1
    return changed


def hide_comment(session: Session, comment: Comment, reason: str, *, by: User) -> None:
    """Take a comment off the public pages, keeping it (and the reason) for the record."""
    if reason not in HideReason.__members__.values():
        raise InvalidHideReason(reason)
    with write_transaction(session):
        previous = comment.status
        comment.status = CommentStatus.HIDDEN.value
        comment.hidden_reason = reason
        comment.duplicate_of_id = None
        comment.moderated_at = utcnow()
        audit.record(session, by, "comment.hide", comment, previous=previous, reason=reason)


def bulk_hide(session: Session, comments: Iterable[Comment], reason: str, *, by: User) -> int:
    if reason not in HideReason.__members__.values():
        raise InvalidHideReason(reason)
    changed = 0
    with write_transaction(session):
        now = utcnow()
        for comment in comments:
            if comment.status == CommentStatus.HIDDEN and comment.hidden_reason == reason:
                continue
            previous = comment.status
            comment.status = CommentStatus.HIDDEN.value
            comment.hidden_reason = reason
            comment.duplicate_of_id = None
            comment.moderated_at = now
            audit.record(session, by, "comment.hide", comment, previous=previous, reason=reason, bulk=True)
            changed += 1
    return changed


def merge_comment(session: Session, comment: Comment, into: Comment | None, *, by: User) -> None:
    """Mark `comment` as a duplicate of `into`. Its own duplicates move to `into`, so there are no chains."""
    if into is None:
        raise InvalidMerge("not_found")
    if into.id == comment.id:
        raise InvalidMerge("self")
    if into.document_id != comment.document_id:
        raise InvalidMerge("other_document")
    if into.status == CommentStatus.MERGED:
        raise InvalidMerge("target_merged")
    with write_transaction(session):
        previous = comment.status
        comment.status = CommentStatus.MERGED.value
        comment.duplicate_of_id = into.id
        comment.hidden_reason = None
        comment.moderated_at = utcnow()
        moved = list(session.scalars(select(Comment).where(Comment.duplicate_of_id == comment.id)))
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


def duplicates_of(session: Session, comment: Comment) -> list[Comment]:
    return list(
        session.scalars(select(Comment).where(Comment.duplicate_of_id == comment.id).order_by(Comment.id))
    )


# --- decisions ------------------------------------------------------------------------------------


def _clean_justification(justification: dict | None) -> dict[str, str]:
    return {lang: text.strip() for lang, text in (justification or {}).items() if text and text.strip()}


def _check_decision(
    comments: Sequence[Comment], decision: str, justification: dict, part: str | None
) -> None:
    if decision not in Decision.__members__.values():
        raise UnknownDecision(decision)
    for comment in comments:
        if comment.status in (CommentStatus.HIDDEN, CommentStatus.MERGED):
            raise NotDecidable(comment.id)
    if decision == Decision.PARTLY_ACCEPTED and not part:
        raise PartRequired()
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
    part: str | None,
    by: User,
    now: datetime,
    **audit_details,
) -> CommentDecisionChange | None:
    if (
        comment.decision == decision
        and (comment.decision_part or None) == part
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
    document = comment.document or session.get(Document, comment.document_id)
    if document.results_published and comment.email:
        # Results are already public, so the author hears about a (changed) decision straight away;
        # before that, notify_published_outcomes tells everyone at once when results go out.
        notify.comment_decided(session, comment)
    return change


def decide_comment(
    session: Session,
    comment: Comment,
    decision: str,
    justification: dict | None,
    part: str | None,
    by: User,
) -> CommentDecisionChange | None:
    """Record the drafters' decision on one comment. Returns the history row, or None if nothing changed.

    Raises PartRequired for "partly accepted" without the part, ReasonRequired for "rejected" without
    a justification in the comment's language, NotDecidable for hidden or merged comments.
    """
    justification = _clean_justification(justification)
    part = (part or "").strip() or None
    if decision != Decision.PARTLY_ACCEPTED:
        part = None
    _check_decision([comment], decision, justification, part)
    with write_transaction(session):
        return _apply_decision(session, comment, decision, justification, part, by, utcnow())


def decision_history(session: Session, comment: Comment) -> list[tuple[CommentDecisionChange, User | None]]:
    rows = session.execute(
        select(CommentDecisionChange, User)
        .outerjoin(User, User.id == CommentDecisionChange.user_id)
        .where(CommentDecisionChange.comment_id == comment.id)
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


def create_group(session: Session, comments: Sequence[Comment], label: str, *, by: User) -> CommentGroup:
    if len(comments) < 2:
        raise InvalidGroup("too_few")
    if len({c.document_id for c in comments}) != 1:
        raise InvalidGroup("other_document")
    if any(c.group_id is not None for c in comments):
        raise InvalidGroup("already_grouped")
    if any(c.status not in _GROUPABLE for c in comments):
        raise InvalidGroup("not_groupable")
    label = " ".join((label or "").split())[:200] or GroupSuggestion(0, None, list(comments)).label
    with write_transaction(session):
        group = CommentGroup(document_id=comments[0].document_id, label=label)
        session.add(group)
        session.flush()
        for comment in comments:
            comment.group_id = group.id
        audit.record(session, by, "comment.group", group, comments=[c.id for c in comments])
    return group


def remove_from_group(session: Session, comment: Comment, *, by: User) -> None:
    if comment.group_id is None:
        return
    with write_transaction(session):
        group_id = comment.group_id
        comment.group_id = None
        audit.record(session, by, "comment.ungroup", comment, group=group_id)


def group_comments(session: Session, group: CommentGroup) -> list[Comment]:
    return list(
        session.scalars(
            select(Comment).where(Comment.group_id == group.id).order_by(Comment.created_at, Comment.id)
        )
    )


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
    group: CommentGroup,
    decision: str,
    justification: dict | None,
    part: str | None,
    by: User,
) -> int:
    """Apply one decision to every decidable comment in the group; each gets its own history row.

    Hidden and merged members are skipped (they are not decided on). Returns how many changed.
    """
    justification = _clean_justification(justification)
    part = (part or "").strip() or None
    if decision != Decision.PARTLY_ACCEPTED:
        part = None
    members = [
        c
        for c in group_comments(session, group)
        if c.status not in (CommentStatus.HIDDEN, CommentStatus.MERGED)
    ]
    _check_decision(members, decision, justification, part)
    changed = 0
    with write_transaction(session):
        now = utcnow()
        for comment in members:
            if _apply_decision(session, comment, decision, justification, part, by, now, group=group.id):
                changed += 1
    return changed


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
    document: Document,
    item_number: str | None,
    *,
    kind: str,
    body: str,
    language: str,
    author: CommentAuthor,
    proposed_wording: str | None,
    source: str,
    event_session: EventSession | None,
    by: User,
) -> Comment:
    """Type in a comment given on paper, aloud at a session, by letter or e-mail, on someone's behalf."""
    item = find_item(session, document, item_number)
    if event_session is not None and event_session.consultation_id != document.consultation_id:
        raise SessionMismatch(event_session.id)

    # create_comment is the one insert path and commits by itself; the audit entry is added first so it
    # lands in that same commit, and gets the new comment's id as soon as the insert has assigned it.
    entry = audit.record(
        session,
        by,
        "comment.enter",
        None,
        source=source,
        document=document.id,
        item=item.id if item else None,
        event_session=event_session.id if event_session else None,
    )
    entry.object_type = "Comment"

    inserted: list[Comment] = []

    def note_insert(flushed: Session, _context) -> None:
        inserted.extend(obj for obj in flushed.new if isinstance(obj, Comment))

    def link_entry(_flushed: Session, _context) -> None:
        # After the flush has finished, so the change is flushed again by the same commit.
        if inserted and entry.object_id is None:
            entry.object_id = inserted[0].id

    event.listen(session, "after_flush", note_insert)
    event.listen(session, "after_flush_postexec", link_entry)
    try:
        return create_comment(
            session,
            document,
            item,
            kind=kind,
            body=body,
            language=language,
            author=author,
            proposed_wording=proposed_wording,
            source=source,
            event_session_id=event_session.id if event_session else None,
            entered_by=by,
        )
    except BaseException:
        session.rollback()
        raise
    finally:
        event.remove(session, "after_flush", note_insert)
        event.remove(session, "after_flush_postexec", link_entry)

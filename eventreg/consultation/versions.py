"""A document's life across versions: how the items of a new version descend from the previous one, storing
a previewed version, what was said on an item's ancestors, where a comment typed on an older version goes,
and the word-level redline between two wordings.

Matching is pure (ParsedItem and item snapshots in, suggestions out) so the preview can show it before
anything is stored; `store_version` is the one way a version is stored, inside the caller's unit of work.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from eventreg import audit
from eventreg.db import lock_all, lock_one, require_unit_of_work
from eventreg.models import (
    COUNTED_COMMENT_STATUSES,
    Comment,
    CommentStatus,
    Consultation,
    Document,
    DocumentItem,
    DocumentItemLink,
    ItemRelation,
    User,
)

SAME_NUMBER_SIMILARITY = 0.5  # an item keeping its number is "changed" down to half its words alike
MOVED_SIMILARITY = 0.6  # one that moved must be more alike
CONTAINED = 0.8  # share of an item's words found in another: a part of a split, or of a merge
AUTO = "auto"  # the organiser keeps the suggestion
NEW = ""  # the organiser says: no ancestor


# ItemRelation's labels, plus "new" (no ancestor) and "removed" (no successor).
RELATION_LABELS: dict[str, object] = {**ItemRelation.labels(), "new": _l("New"), "removed": _l("Removed")}


def relation_label(code: str | None) -> str:
    code = code or "new"
    return str(RELATION_LABELS.get(code, code))


class VersionChanged(Exception):
    """Another version of the document was stored after the preview was made."""


class PreviewExpired(Exception):
    """The preview's signed content does not verify (tampered with, or signed with another key)."""


# --- the content of an item, in words ---------------------------------------------------------------

_WORD = re.compile(r"\w+", re.UNICODE)


def item_wording(heading: dict, text: dict, fields: dict, lang: str) -> str:
    """What an item says in one language: its heading and text, or an action-plan row's columns."""
    parts = [heading.get(lang, ""), text.get(lang, "")]
    parts += [values.get(lang, "") for values in (fields or {}).values()]
    return "\n".join(part for part in parts if part)


def words(wording: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in _WORD.findall(wording))


@dataclass
class Snapshot:
    number: str
    words: tuple[str, ...]


@dataclass
class Suggestion:
    ancestors: list[str] = field(default_factory=list)
    relation: str | None = None  # None: a new item


def _ratio(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    if not a and not b:
        return 1.0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < MOVED_SIMILARITY / 2 or matcher.quick_ratio() < MOVED_SIMILARITY / 2:
        return 0.0
    return matcher.ratio()


def _contained(part: tuple[str, ...], whole: tuple[str, ...]) -> float:
    if len(part) < 3:
        return 0.0
    common = Counter(part) & Counter(whole)
    return sum(common.values()) / len(part)


def relation_for(old: Snapshot, new: Snapshot) -> str:
    if old.words == new.words:
        return ItemRelation.UNCHANGED.value if old.number == new.number else ItemRelation.RENUMBERED.value
    return ItemRelation.CHANGED.value


def match_items(old: list[Snapshot], new: list[Snapshot]) -> dict[str, Suggestion]:
    """For each new item (by number), the earlier item(s) it comes from and how.

    In order: the same number and wording (unchanged); the same wording elsewhere (renumbered); the same
    number and similar wording (changed); similar wording elsewhere (changed); a new item whose words are
    mostly in an earlier one that already has a successor (split); an earlier item left over whose words are
    mostly in a new one (merged). What is left is new, or removed.
    """
    suggestions = {n.number: Suggestion() for n in new}
    old_by_number = {o.number: o for o in old}
    taken: set[str] = set()

    def link(n: Snapshot, o: Snapshot, relation: str | None = None) -> None:
        suggestions[n.number].ancestors.append(o.number)
        suggestions[n.number].relation = relation or relation_for(o, n)
        taken.add(o.number)

    unmatched = list(new)
    for n in list(unmatched):
        o = old_by_number.get(n.number)
        if o is not None and o.words == n.words:
            link(n, o)
            unmatched.remove(n)
    by_words: dict[tuple[str, ...], list[Snapshot]] = {}
    for o in old:
        if o.number not in taken:
            by_words.setdefault(o.words, []).append(o)
    for n in list(unmatched):
        candidates = [o for o in by_words.get(n.words, []) if o.number not in taken]
        if candidates and n.words:
            link(n, candidates[0])
            unmatched.remove(n)
    for n in list(unmatched):
        o = old_by_number.get(n.number)
        if o is not None and o.number not in taken and _ratio(o.words, n.words) >= SAME_NUMBER_SIMILARITY:
            link(n, o)
            unmatched.remove(n)
    for n in list(unmatched):
        scored = [(_ratio(o.words, n.words), o) for o in old if o.number not in taken]
        scored = [(score, o) for score, o in scored if score >= MOVED_SIMILARITY]
        if scored:
            link(n, max(scored, key=lambda pair: pair[0])[1])
            unmatched.remove(n)
    # Splits: a new item that is part of an earlier one.
    for n in list(unmatched):
        scored = [(_contained(n.words, o.words), o) for o in old]
        scored = [(score, o) for score, o in scored if score >= CONTAINED]
        if scored:
            o = max(scored, key=lambda pair: pair[0])[1]
            link(n, o, ItemRelation.SPLIT.value)
            unmatched.remove(n)
    successors: dict[str, list[str]] = {}
    for number, suggestion in suggestions.items():
        for ancestor in suggestion.ancestors:
            successors.setdefault(ancestor, []).append(number)
    for numbers in successors.values():
        if len(numbers) > 1:
            for number in numbers:
                suggestions[number].relation = ItemRelation.SPLIT.value
    # Merges: an earlier item left over whose words are in a new one.
    for o in old:
        if o.number in taken:
            continue
        scored = [(_contained(o.words, n.words), n) for n in new]
        scored = [(score, n) for score, n in scored if score >= CONTAINED]
        if scored:
            n = max(scored, key=lambda pair: pair[0])[1]
            suggestions[n.number].ancestors.append(o.number)
            taken.add(o.number)
    order = {o.number: index for index, o in enumerate(old)}
    for suggestion in suggestions.values():
        suggestion.ancestors.sort(key=order.__getitem__)
        if len(suggestion.ancestors) > 1:
            suggestion.relation = ItemRelation.MERGED.value
    return suggestions


def apply_corrections(
    suggestions: dict[str, Suggestion],
    corrections: dict[str, str],
    old: list[Snapshot],
    new: list[Snapshot],
) -> dict[str, Suggestion]:
    """The organiser's choice per new item: AUTO keeps the suggestion, NEW cuts it off, a number links it."""
    old_by_number = {o.number: o for o in old}
    new_by_number = {n.number: n for n in new}
    result = {number: Suggestion(list(s.ancestors), s.relation) for number, s in suggestions.items()}
    for number, choice in corrections.items():
        if number not in result or choice == AUTO:
            continue
        if choice == NEW or choice not in old_by_number:
            result[number] = Suggestion()
        else:
            result[number] = Suggestion([choice], relation_for(old_by_number[choice], new_by_number[number]))
    successors: dict[str, list[str]] = {}
    for number, suggestion in result.items():
        for ancestor in suggestion.ancestors:
            successors.setdefault(ancestor, []).append(number)
    for numbers in successors.values():
        if len(numbers) > 1:
            for number in numbers:
                if len(result[number].ancestors) == 1:
                    result[number].relation = ItemRelation.SPLIT.value
    for suggestion in result.values():
        if len(suggestion.ancestors) > 1:
            suggestion.relation = ItemRelation.MERGED.value
    return result


def removed_numbers(old: list[Snapshot], suggestions: dict[str, Suggestion]) -> list[str]:
    linked = {a for s in suggestions.values() for a in s.ancestors}
    return [o.number for o in old if o.number not in linked]


def matching_language(old_languages: Iterable[str], new_languages: Iterable[str]) -> str:
    new_languages = list(new_languages)
    common = [lang for lang in new_languages if lang in set(old_languages)]
    return (common or new_languages)[0]


def snapshots_of_items(items: Iterable[DocumentItem], lang: str) -> list[Snapshot]:
    return [Snapshot(i.number, words(item_wording(i.heading, i.text, i.fields, lang))) for i in items]


def snapshots_of_parsed(items, lang: str) -> list[Snapshot]:
    return [Snapshot(i.number, words(item_wording(i.heading, i.text, i.fields, lang))) for i in items]


def document_languages(items: Iterable[DocumentItem]) -> list[str]:
    seen: list[str] = []
    for item in items:
        for mapping in (item.heading, item.text, *(item.fields or {}).values()):
            for lang in mapping:
                if lang not in seen:
                    seen.append(lang)
    return seen


# --- the preview: the parsed document travels in the page, signed, until the organiser confirms -----------


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="eventreg.document-preview")


def sign_preview(secret_key: str, consultation_id: int, previous_id: int | None, parsed) -> str:
    payload = {
        "c": consultation_id,
        "p": previous_id,
        "key": parsed.key,
        "title": parsed.title,
        "languages": parsed.languages,
        "not_kept": parsed.not_kept,
        "items": [[i.number, i.is_row, i.kind, i.heading, i.text, i.fields] for i in parsed.items],
    }
    return _serializer(secret_key).dumps(payload)


def read_preview(secret_key: str, token: str):
    """(consultation id, previous version's id, ParsedDocument) from a signed preview."""
    from eventreg.consultation.importer import ParsedDocument, ParsedItem

    try:
        payload = _serializer(secret_key).loads(token)
    except BadSignature as exc:
        raise PreviewExpired() from exc
    items = []
    for number, is_row, kind, heading, text, fields in payload["items"]:
        items.append(
            ParsedItem(
                number=number, is_row=is_row, line=0, heading=heading, text=text, fields=fields, kind=kind
            )
        )
    parsed = ParsedDocument(
        key=payload["key"],
        title=payload["title"],
        languages=payload["languages"],
        items=items,
        not_kept=payload.get("not_kept") or {},
    )
    return payload["c"], payload["p"], parsed


def current_version(session: Session, consultation_id: int, key: str) -> Document | None:
    return session.scalars(
        select(Document).where(
            Document.consultation_id == consultation_id, Document.key == key, Document.is_current.is_(True)
        )
    ).first()


def items_of(session: Session, document_id: int) -> list[DocumentItem]:
    return list(
        session.scalars(
            select(DocumentItem)
            .where(DocumentItem.document_id == document_id)
            .order_by(DocumentItem.position)
        )
    )


@dataclass
class VersionMatch:
    previous: Document | None
    old_items: list[DocumentItem]
    suggestions: dict[str, Suggestion]
    removed: list[str]
    lang: str


def suggest_links(session: Session, consultation_id: int, parsed, corrections=None) -> VersionMatch:
    previous = current_version(session, consultation_id, parsed.key)
    if previous is None:
        return VersionMatch(None, [], {i.number: Suggestion() for i in parsed.items}, [], parsed.languages[0])
    old_items = items_of(session, previous.id)
    lang = matching_language(document_languages(old_items), parsed.languages)
    old = snapshots_of_items(old_items, lang)
    new = snapshots_of_parsed(parsed.items, lang)
    suggestions = match_items(old, new)
    if corrections:
        suggestions = apply_corrections(suggestions, corrections, old, new)
    return VersionMatch(previous, old_items, suggestions, removed_numbers(old, suggestions), lang)


def store_version(
    session: Session,
    consultation_id: int,
    parsed,
    *,
    previous_id: int | None,
    corrections: dict[str, str] | None = None,
    by: User | None = None,
    source: str = "upload",
) -> Document:
    """Store a parsed document as the newest version of its key, with links to the version before it.

    `previous_id` is the current version the preview was made against: if another was stored since, this
    raises VersionChanged rather than link to a version the organiser did not see. Inside the caller's
    unit of work; flushes, never commits.
    """
    from eventreg.consultation.importer import store_document

    require_unit_of_work(session)
    consultation = lock_one(session, Consultation, consultation_id)
    if consultation is None:
        raise LookupError(consultation_id)
    documents = lock_all(
        session,
        select(Document).where(Document.consultation_id == consultation_id, Document.key == parsed.key),
    )
    current = next((d for d in documents if d.is_current), None)
    if (current.id if current else None) != previous_id:
        raise VersionChanged()
    match = suggest_links(session, consultation_id, parsed, corrections)
    document = store_document(session, consultation, parsed)
    session.flush()
    new_items = {i.number: i for i in items_of(session, document.id)}
    old_items = {i.number: i for i in match.old_items}
    links = 0
    for number, suggestion in match.suggestions.items():
        for ancestor in suggestion.ancestors:
            session.add(
                DocumentItemLink(
                    item_id=new_items[number].id,
                    ancestor_id=old_items[ancestor].id,
                    relation=suggestion.relation,
                )
            )
            links += 1
    audit.record(
        session,
        by,
        "document.import",
        document,
        key=document.key,
        version=document.version,
        items=len(parsed.items),
        linked=links,
        corrected=sorted(n for n, c in (corrections or {}).items() if c != AUTO),
        source=source,
    )
    session.flush()
    return document


# --- comments across versions ------------------------------------------------------------------------


@dataclass
class Earlier:
    """What was said on one ancestor of an item: in which version, on which wording, how many comments."""

    version: int
    item: DocumentItem
    relation: str
    count: int


def earlier_comments(
    session: Session, document_id: int, item_ids: Iterable[int] | None = None
) -> dict[int, list[Earlier]]:
    """For each item of a version, its ancestors in every earlier version with their comment counts.

    A few queries per version step (links, items, counts), whatever the size of the draft. Pass the
    version's item ids when they are already loaded.
    """
    result: dict[int, list[Earlier]] = {}
    if item_ids is None:
        item_ids = [i.id for i in items_of(session, document_id)]
    frontier = {i: i for i in item_ids}  # item → the item of this version it leads to
    relation_of: dict[int, str] = {}
    while frontier:
        links = list(
            session.execute(select(DocumentItemLink).where(DocumentItemLink.item_id.in_(frontier))).scalars()
        )
        if not links:
            break
        next_frontier: dict[int, int] = {}
        for link in links:
            next_frontier[link.ancestor_id] = frontier[link.item_id]
            relation_of[link.ancestor_id] = link.relation
        ancestors = {
            i.id: i for i in session.scalars(select(DocumentItem).where(DocumentItem.id.in_(next_frontier)))
        }
        versions = dict(
            session.execute(
                select(Document.id, Document.version).where(
                    Document.id.in_({i.document_id for i in ancestors.values()})
                )
            ).all()
        )
        counts = dict(
            session.execute(
                select(Comment.item_id, func.count(Comment.id))
                .where(Comment.item_id.in_(next_frontier), Comment.status.in_(COUNTED_COMMENT_STATUSES))
                .group_by(Comment.item_id)
            ).all()
        )
        for ancestor_id, current_id in next_frontier.items():
            ancestor = ancestors[ancestor_id]
            result.setdefault(current_id, []).append(
                Earlier(
                    versions[ancestor.document_id],
                    ancestor,
                    relation_of[ancestor_id],
                    counts.get(ancestor_id, 0),
                )
            )
        frontier = next_frontier
    for earlier in result.values():
        earlier.sort(key=lambda e: (-e.version, e.item.position))
    return result


def successors_in(session: Session, item_id: int, document_id: int) -> list[DocumentItem]:
    """The items of `document_id` that an earlier item became (none: it was removed on the way)."""
    frontier = {item_id}
    for _step in range(1000):
        items = list(session.scalars(select(DocumentItem).where(DocumentItem.id.in_(frontier))))
        here = [i for i in items if i.document_id == document_id]
        if here or not frontier:
            return sorted(here, key=lambda i: i.position)
        frontier = set(
            session.scalars(
                select(DocumentItemLink.item_id).where(DocumentItemLink.ancestor_id.in_(frontier))
            )
        )
        if not frontier:
            return []
    return []


@dataclass
class LaterWording:
    """For a comment made on an earlier version: the current version and what its item became there."""

    document: Document
    items: list[DocumentItem]


def later_wording(session: Session, comment: Comment) -> LaterWording | None:
    """None while the comment's version is the current one (or the comment is on the whole document)."""
    if comment.item_id is None:
        return None
    made_on = session.get(Document, comment.document_id)
    if made_on is None or made_on.is_current:
        return None
    current = current_version(session, made_on.consultation_id, made_on.key)
    if current is None:
        return None
    return LaterWording(current, successors_in(session, comment.item_id, current.id))


@dataclass
class CommentTarget:
    """Where a comment typed on `shown` (an item of the version the form was shown with) should go."""

    shown: DocumentItem | None
    successors: list[DocumentItem]
    unchanged: bool  # one successor with the same wording: the comment may go there without asking

    @property
    def removed(self) -> bool:
        return not self.successors


def comment_target(
    session: Session, current: Document, shown_version: int | None, number: str
) -> CommentTarget | None:
    """Follow an item number of the version a form was shown with to the current version.

    None when no version the person could have seen has that number (a real "not found").
    """
    if shown_version is None or shown_version == current.version:
        item = session.scalars(
            select(DocumentItem).where(DocumentItem.document_id == current.id, DocumentItem.number == number)
        ).first()
        return CommentTarget(item, [item], True) if item is not None else None
    shown_doc = session.scalars(
        select(Document).where(
            Document.consultation_id == current.consultation_id,
            Document.key == current.key,
            Document.version == shown_version,
        )
    ).first()
    if shown_doc is None:
        return None
    shown = session.scalars(
        select(DocumentItem).where(DocumentItem.document_id == shown_doc.id, DocumentItem.number == number)
    ).first()
    if shown is None:
        return None
    successors = successors_in(session, shown.id, current.id)
    unchanged = len(successors) == 1 and (
        (successors[0].heading, successors[0].text, successors[0].fields)
        == (shown.heading, shown.text, shown.fields)
    )
    return CommentTarget(shown, successors, unchanged)


# --- redline -----------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\w+\s*|[^\w\s]\s*|\s+", re.UNICODE)


def diff_tokens(old: str, new: str) -> list[tuple[str, str]]:
    """[(op, text)] with op "=", "-" or "+": the word-level difference between two wordings."""
    a, b = _TOKEN.findall(old or ""), _TOKEN.findall(new or "")
    out: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append(("=", "".join(a[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            out.append(("-", "".join(a[i1:i2])))
        if tag in ("insert", "replace"):
            out.append(("+", "".join(b[j1:j2])))
    return out


def redline(old: str, new: str, *, deleted_label: str, inserted_label: str, end_label: str) -> Markup:
    """HTML of the new wording with <del>/<ins>; each change says what it is to screen readers, which do not
    announce <ins> and <del> by themselves."""
    parts = []
    for op, text in diff_tokens(old, new):
        html = escape(text).replace("\n", Markup("<br>"))
        if op == "=":
            parts.append(html)
        elif op == "-":
            parts.append(
                Markup(
                    '<del><span class="visually-hidden">{} </span>{}<span class="visually-hidden"> {}</span></del>'
                ).format(deleted_label, html, end_label)
            )
        else:
            parts.append(
                Markup(
                    '<ins><span class="visually-hidden">{} </span>{}<span class="visually-hidden"> {}</span></ins>'
                ).format(inserted_label, html, end_label)
            )
    return Markup("").join(parts)


# --- comparing two versions: one function builds the rows the page and the comparative table show --------


@dataclass
class ComparisonRow:
    relation: str  # an ItemRelation value, "new" or "removed"
    old_items: list[DocumentItem]
    new_item: DocumentItem | None
    old_wording: str
    new_wording: str
    comment_ids: list[int] = field(default_factory=list)

    @property
    def old_numbers(self) -> str:
        return ", ".join(i.number for i in self.old_items)

    @property
    def number(self) -> str:
        return self.new_item.number if self.new_item is not None else self.old_numbers


def _relation_between(old_items: list[DocumentItem], new_item: DocumentItem, split: bool, lang: str) -> str:
    if len(old_items) > 1:
        return ItemRelation.MERGED.value
    if split:
        return ItemRelation.SPLIT.value
    old = old_items[0]
    same = item_wording(old.heading, old.text, old.fields, lang) == item_wording(
        new_item.heading, new_item.text, new_item.fields, lang
    )
    if same:
        return (
            ItemRelation.UNCHANGED.value if old.number == new_item.number else ItemRelation.RENUMBERED.value
        )
    return ItemRelation.CHANGED.value


def compare_versions(session: Session, old: Document, new: Document, lang: str) -> list[ComparisonRow]:
    """Every item of the newer version in order, with the item(s) of the older one it comes from; the items
    removed on the way follow the item that came after their predecessor. Wordings are in `lang`."""
    old_items = items_of(session, old.id)
    new_items = items_of(session, new.id)
    ancestry = earlier_comments(session, new.id)
    parents: dict[int, list[DocumentItem]] = {}
    children: dict[int, int] = {}
    for item in new_items:
        olds = [e.item for e in ancestry.get(item.id, []) if e.item.document_id == old.id]
        parents[item.id] = sorted(olds, key=lambda i: i.position)
        for o in olds:
            children[o.id] = children.get(o.id, 0) + 1
    comments: dict[int, list[int]] = {}
    for comment_id, item_id in session.execute(
        select(Comment.id, Comment.item_id)
        .where(Comment.document_id == old.id, Comment.status != CommentStatus.HIDDEN.value)
        .order_by(Comment.created_at, Comment.id)
    ):
        comments.setdefault(item_id, []).append(comment_id)

    def wording(item: DocumentItem | None) -> str:
        return item_wording(item.heading, item.text, item.fields, lang) if item is not None else ""

    rows: list[ComparisonRow] = []
    placed: set[int] = set()
    removed = [o for o in old_items if o.id not in children]
    for item in new_items:
        olds = parents[item.id]
        if olds:
            relation = _relation_between(olds, item, any(children[o.id] > 1 for o in olds), lang)
        else:
            relation = "new"
        row = ComparisonRow(
            relation,
            olds,
            item,
            "\n\n".join(wording(o) for o in olds),
            wording(item),
            [c for o in olds for c in comments.get(o.id, [])],
        )
        rows.append(row)
        placed.update(o.id for o in olds)
        # Removed items that stood right after what this item came from.
        last = max((o.position for o in olds), default=None)
        if last is not None:
            for gone in [r for r in removed if r.position > last and r.id not in placed]:
                nexts = [o for o in old_items if last < o.position < gone.position and o.id not in placed]
                if nexts:
                    break
                rows.append(
                    ComparisonRow("removed", [gone], None, wording(gone), "", comments.get(gone.id, []))
                )
                placed.add(gone.id)
    for gone in removed:
        if gone.id not in placed:
            rows.append(ComparisonRow("removed", [gone], None, wording(gone), "", comments.get(gone.id, [])))
    return rows

"""Lists: one row per comment and one per registration, streamed for the big downloads."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from eventreg.collation import sort_key
from eventreg.i18n import LocalText, gettext, languages
from eventreg.models import (
    Comment,
    CommentGroup,
    CommentStatus,
    DocumentItem,
    EventSession,
    Registration,
)
from eventreg.reports.queries.filters import (
    BISHKEK,
    REPORTED_STATUSES,
    STREAM_BATCH,
    Filters,
    comment_conditions,
    registration_conditions,
)
from eventreg.reports.queries.table import Column, Table
from eventreg.vocabulary import (
    COMMENT_KINDS,
    COMMENT_SOURCES,
    COMMENT_STATUSES,
    DECISIONS,
    REGIONS,
    REGISTRATION_STATUSES,
    SECTORS,
    SEXES,
)

# --- lists: one row per comment, one row per registration -----------------------------------------


def comment_list_columns(contacts: bool) -> list[Column]:
    columns = [
        Column("id", _l("No."), numeric=True, width=8),
        Column("item_number", _l("Item"), width=10),
        Column("item_text", _l("Current draft text"), width=50),
        Column("kind", _l("Kind of comment"), width=16),
        Column("body", _l("Comment or proposal"), width=60),
        Column("proposed_wording", _l("Proposed wording"), width=50),
        Column("author", _l("Author"), width=24),
        Column("organisation", _l("Organisation"), width=30),
        Column("sector", _l("Sector"), width=24),
        Column("region", _l("Region"), width=20),
        Column("sex", _l("Sex"), width=12),
    ]
    if contacts:
        columns.append(Column("email", _l("E-mail"), width=28))
    columns += [
        Column("source", _l("Source"), width=16),
        Column("session", _l("Session"), width=30),
        Column("status", _l("Moderation status"), width=14),
        Column("decision", _l("Decision"), width=16),
        Column("decision_part", _l("Part accepted"), width=30),
        Column("justification", _l("Justification"), width=50),
        # One row per comment here, for filtering and pivoting; the table of comments lists a group once
        # and counts duplicates into their original (reports/entries.py). These say which rows those are.
        Column("group", _l("Group of near-identical comments"), width=30),
        Column("duplicates", _l("Duplicates merged into it"), numeric=True, width=12),
        Column("created_at", _l("Received (Bishkek time)"), width=18),
    ]
    return columns


def _comment_list_select(f: Filters, statuses: tuple[str, ...] = REPORTED_STATUSES) -> Select:
    duplicates = _duplicate_counts()
    # Whole-document comments (no item) first, then items in document order, then oldest first.
    return (
        select(
            Comment.id,
            DocumentItem.number,
            DocumentItem.text,
            DocumentItem.fields,
            Comment.kind,
            Comment.body,
            Comment.proposed_wording,
            Comment.author_name,
            Comment.show_name,
            Comment.organisation,
            Comment.sector,
            Comment.region,
            Comment.sex,
            Comment.email,
            Comment.source,
            EventSession.title,
            Comment.status,
            Comment.decision,
            Comment.decision_part,
            Comment.justification,
            Comment.created_at,
            Comment.item_id,
            DocumentItem.heading,
            Comment.language,
            Comment.group_id,
            CommentGroup.label,
            duplicates.c.n,
        )
        .outerjoin(DocumentItem, DocumentItem.id == Comment.item_id)
        .outerjoin(EventSession, EventSession.id == Comment.session_id)
        .outerjoin(CommentGroup, CommentGroup.id == Comment.group_id)
        .outerjoin(duplicates, duplicates.c.original_id == Comment.id)
        .where(*comment_conditions(f, statuses))
        .order_by(Comment.document_id, func.coalesce(DocumentItem.position, -1), Comment.id)
    )


def _duplicate_counts():
    """Merged duplicates per original, aggregated once (a join, not a look-up per exported row)."""
    return (
        select(Comment.duplicate_of_id.label("original_id"), func.count(Comment.id).label("n"))
        .where(Comment.status == CommentStatus.MERGED.value)
        .group_by(Comment.duplicate_of_id)
        .subquery("duplicate_counts")
    )


def merged_duplicates(
    session: Session, f: Filters, statuses: tuple[str, ...] = REPORTED_STATUSES
) -> dict[int, list[int]]:
    """The merged duplicates of the comments a report lists: original's id -> the duplicates' ids."""
    listed = select(Comment.id).where(*comment_conditions(f, statuses))
    rows = session.execute(
        select(Comment.duplicate_of_id, Comment.id)
        .where(Comment.status == CommentStatus.MERGED.value, Comment.duplicate_of_id.in_(listed))
        .order_by(Comment.id)
    )
    found: dict[int, list[int]] = {}
    for original, duplicate in rows:
        found.setdefault(original, []).append(duplicate)
    return found


@dataclass
class CommentRow:
    """One comment as every comment export and the DOCX table read it."""

    id: int
    item_id: int | None
    item_number: str
    item_heading: str
    item_text: str
    kind: str
    body: str
    proposed_wording: str
    author_name: str
    show_name: bool
    organisation: str
    sector: str
    region: str
    sex: str
    email: str
    source: str
    session: str
    status: str
    decision_code: str | None
    decision: str
    decision_part: LocalText  # in the reader's language, else another one (`.is_fallback` says so)
    justification: LocalText
    created_at: datetime
    item_fields: dict[str, str] = field(default_factory=dict)  # an action-plan row's columns, by name
    kind_code: str = ""
    language: str = ""  # the comment's own
    group_id: int | None = None
    group: str = ""  # the group's name
    duplicates: int = 0  # merged into this comment
    decision_key: tuple = ()  # equal for comments decided alike (decision, part and justification)

    def as_row(self, contacts: bool, labels: Labels) -> tuple:
        row = [
            self.id,
            self.item_number,
            self.item_text,
            self.kind,
            self.body,
            self.proposed_wording,
            self.author_name,
            self.organisation,
            self.sector,
            self.region,
            self.sex,
        ]
        if contacts:
            row.append(self.email)
        row += [
            self.source,
            self.session,
            self.status,
            self.decision,
            labels.marked(self.decision_part),
            labels.marked(self.justification),
            self.group,
            self.duplicates,
            self.created_at,
        ]
        return tuple(row)


@dataclass(frozen=True)
class Labels:
    """Every label a list export needs, translated once up front.

    Lists are streamed after the view has returned, when there is no request (and so no language) any
    more; translating here also saves a lazy-string lookup per cell.
    """

    lang: str
    fallbacks: tuple[str, ...]
    vocabularies: dict[str, dict[str, str]]
    in_another_language: str = "%(what)s (%(language)s)"
    language_names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def now(cls, lang: str | None) -> Labels:
        from flask import current_app
        from flask_babel import get_locale

        lang = lang or str(get_locale())
        vocabularies = {
            "kind": COMMENT_KINDS,
            "sector": SECTORS,
            "region": REGIONS,
            "sex": SEXES,
            "source": COMMENT_SOURCES,
            "status": COMMENT_STATUSES,
            "decision": DECISIONS,
            "registration": REGISTRATION_STATUSES,
            "words": {"yes": _l("Yes"), "no": _l("No")},
        }
        return cls(
            lang,
            tuple(current_app.config["LANGUAGES"]),
            {name: {code: str(text) for code, text in v.items()} for name, v in vocabularies.items()},
            gettext("%(what)s (%(language)s)"),
            dict(languages()),
        )

    def marked(self, text: LocalText) -> str:
        """A stored text as a file shows it: with its language named when it is not the reader's."""
        return text.marked(self.in_another_language, self.language_names)

    def label(self, vocabulary: str, code: str | None) -> str:
        if code is None:
            return ""
        return self.vocabularies[vocabulary].get(code, code)

    def text(self, texts: dict | None) -> str:
        """The stored text in the reader's language, else in the first language that has it."""
        return self.local(texts).text

    def local(self, texts: dict | None) -> LocalText:
        """As `text`, saying which language the text is in (for a visible note when it is not the reader's)."""
        texts = texts or {}
        for candidate in (self.lang, *self.fallbacks):
            if texts.get(candidate):
                return LocalText(texts[candidate], candidate, self.lang)
        for candidate, value in texts.items():
            if value:
                return LocalText(value, candidate, self.lang)
        return LocalText("", None, self.lang)

    def item_text(self, text: dict | None, fields: dict | None) -> str:
        """An item's current draft text; action-plan rows keep theirs in columns, so join those."""
        value = self.text(text)
        if value or not fields:
            return value
        parts = [self.text(fields.get(name)) for name in ("activity", "indicator", "responsible")]
        return " · ".join(part for part in parts if part)


def comment_records(
    session: Session,
    f: Filters,
    lang: str | None = None,
    statuses: tuple[str, ...] = REPORTED_STATUSES,
    labels: Labels | None = None,
) -> Iterator[CommentRow]:
    """Every reported comment under the filters, streamed from the database in document order."""
    labels = labels or Labels.now(lang)
    stmt = _comment_list_select(f, statuses).execution_options(yield_per=STREAM_BATCH)
    return _comment_records(session, stmt, labels)


def _comment_records(session: Session, stmt: Select, labels: Labels) -> Iterator[CommentRow]:
    for (
        comment_id,
        number,
        text,
        fields,
        kind,
        body,
        proposed,
        author,
        show_name,
        organisation,
        sector,
        region,
        sex,
        email,
        source,
        session_title,
        status,
        decision,
        decision_part,
        justification,
        created_at,
        item_id,
        heading,
        language,
        group_id,
        group_label,
        duplicates,
    ) in session.execute(stmt):
        yield CommentRow(
            id=comment_id,
            item_id=item_id,
            item_number=number or "",
            item_heading=labels.text(heading),
            item_text=labels.item_text(text, fields),
            kind=labels.label("kind", kind),
            body=body,
            proposed_wording=proposed or "",
            author_name=author,
            show_name=bool(show_name),
            organisation=organisation or "",
            sector=labels.label("sector", sector),
            region=labels.label("region", region),
            sex=labels.label("sex", sex),
            email=email or "",
            source=labels.label("source", source),
            session=labels.text(session_title),
            status=labels.label("status", status),
            decision_code=decision,
            decision=labels.label("decision", decision),
            decision_part=labels.local(decision_part),
            justification=labels.local(justification),
            # Bishkek wall-clock time without a zone: a spreadsheet's date cells have none.
            created_at=created_at.astimezone(BISHKEK).replace(tzinfo=None),
            item_fields={name: labels.text(value) for name, value in (fields or {}).items()}
            if fields
            else {},
            kind_code=kind,
            language=language,
            group_id=group_id,
            group=group_label or "",
            duplicates=duplicates or 0,
            decision_key=(decision, _frozen(decision_part), _frozen(justification)),
        )


def _frozen(texts: dict | None) -> tuple:
    return tuple(sorted((texts or {}).items()))


def comment_list(session: Session, f: Filters, contacts: bool, lang: str | None = None) -> Table:
    """One row per comment. `contacts` adds the author's e-mail (organisers and admins only)."""
    labels = Labels.now(lang)
    return Table(
        key="comments",
        title=_l("All comments"),
        columns=comment_list_columns(contacts),
        rows=(record.as_row(contacts, labels) for record in comment_records(session, f, lang, labels=labels)),
    )


def registration_list_columns(contacts: bool) -> list[Column]:
    columns = [
        Column("no", _l("No."), numeric=True, width=6),
        Column("session", _l("Session"), width=30),
        Column("session_date", _l("Date"), width=12),
        Column("full_name", _l("Full name"), width=30),
        Column("sex", _l("Sex"), width=12),
        Column("organisation", _l("Organisation"), width=30),
        Column("sector", _l("Sector"), width=24),
        Column("position", _l("Position"), width=24),
        Column("region", _l("Region"), width=20),
    ]
    if contacts:
        columns += [Column("email", _l("E-mail"), width=28), Column("phone", _l("Phone"), width=18)]
    columns += [
        Column("status", _l("Status"), width=16),
        Column("attended", _l("Attended"), width=10),
        Column("signature", _l("Signature"), width=20),
    ]
    return columns


def registration_list(session: Session, f: Filters, contacts: bool, lang: str | None = None) -> Table:
    """The participant list with the signed-attendance-sheet columns (signature left blank)."""
    stmt = (
        select(
            EventSession.id,
            EventSession.title,
            EventSession.starts_at,
            Registration.full_name,
            Registration.sex,
            Registration.organisation,
            Registration.sector,
            Registration.position,
            Registration.region,
            Registration.email,
            Registration.phone,
            Registration.status,
            Registration.checked_in_at,
        )
        .join(EventSession, EventSession.id == Registration.session_id)
        .where(*registration_conditions(f))
        .order_by(EventSession.starts_at, EventSession.id, Registration.id)
        .execution_options(yield_per=STREAM_BATCH)
    )

    labels = Labels.now(lang)
    yes, no = labels.label("words", "yes"), labels.label("words", "no")

    def sorted_by_name() -> Iterator[tuple]:
        # Names in alphabet order (ң ө ү inside it, not after я) within each session. Only one
        # session's registrations are held at a time, so the download still streams.
        for _session_id, group in groupby(session.execute(stmt), key=lambda row: row[0]):
            yield from sorted(group, key=lambda row: sort_key(row[3]))

    def rows() -> Iterator[tuple]:
        for n, row in enumerate(sorted_by_name(), start=1):
            (
                _id,
                title,
                starts,
                name,
                sex,
                organisation,
                sector,
                position,
                region,
                email,
                phone,
                status,
                seen,
            ) = row
            out = [
                n,
                labels.text(title),
                starts.astimezone(BISHKEK).date(),
                name,
                labels.label("sex", sex),
                organisation,
                labels.label("sector", sector),
                position,
                labels.label("region", region),
            ]
            if contacts:
                out += [email, phone or ""]
            out += [labels.label("registration", status), yes if seen else no, ""]
            yield tuple(out)

    return Table(
        key="participants",
        title=_l("Participant list"),
        columns=registration_list_columns(contacts),
        rows=rows(),
        autofilter=True,
    )

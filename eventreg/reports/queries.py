"""Every report the ministry reads, each built by ONE function that aggregates in SQL.

The dashboards and every download call the same function with the same `Filters`, so what a person sees
on screen and what they download agree exactly. Breakdowns come back as small lists (one row per group);
the comment and participant lists come back as generators that stream from the database with
`yield_per`, so a 100,000-comment consultation never sits in memory.

Which comments count: hidden ones (spam, abuse, personal data) and merged duplicates are left out of every
report, so a campaign merged into one comment is counted once and spam is never counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, case, distinct, func, select
from sqlalchemy.orm import Session

from eventreg.collation import sort_key
from eventreg.i18n import localized
from eventreg.models import (
    Comment,
    CommentStatus,
    Consultation,
    Document,
    DocumentItem,
    EventSession,
    Registration,
    RegistrationStatus,
)
from eventreg.vocabulary import (
    COMMENT_KINDS,
    COMMENT_SOURCES,
    COMMENT_STATUSES,
    DECISIONS,
    REGIONS,
    REGISTRATION_STATUSES,
    SECTORS,
    SEXES,
    label,
)

BISHKEK = ZoneInfo("Asia/Bishkek")
REPORTED_STATUSES = (CommentStatus.NEW.value, CommentStatus.PUBLISHED.value)
DECISION_STATUSES = {"decided": _l("Decided"), "waiting": _l("Waiting for a decision")}
STREAM_BATCH = 1000


class ReportError(Exception):
    """A report request that cannot be answered; the view turns it into a message."""


@dataclass(frozen=True)
class Filters:
    """What a person narrowed the reports to. `None` means "all".

    Dates are Bishkek calendar days, both ends included. For comments the date is when the comment was
    made; for registrations it is the day the session starts (who took part in sessions of that period).
    `kind` is the comment kind; `decision` is "decided", "waiting" or one decision code.
    """

    consultation_id: int | None = None
    document_id: int | None = None
    session_id: int | None = None
    region: str | None = None
    sector: str | None = None
    sex: str | None = None
    kind: str | None = None
    decision: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def utc_bounds(self) -> tuple[datetime | None, datetime | None]:
        start = end = None
        if self.date_from:
            start = datetime.combine(self.date_from, time(), tzinfo=BISHKEK).astimezone(UTC)
        if self.date_to:
            end = datetime.combine(self.date_to + timedelta(days=1), time(), tzinfo=BISHKEK).astimezone(UTC)
        return start, end


@dataclass
class Column:
    key: str
    label: object  # a lazy string, rendered in the reader's language
    numeric: bool = False
    width: int = 14  # spreadsheet column width, in characters


@dataclass
class Table:
    """One report: headers and rows. Breakdown rows start with the group's label, then real numbers."""

    key: str
    title: object
    columns: list[Column]
    rows: Iterable[tuple]
    total: tuple | None = None
    notes: list[str] = field(default_factory=list)
    autofilter: bool = False  # a data list to sort and filter in a spreadsheet, not a summary

    @property
    def headers(self) -> list[str]:
        return [str(c.label) for c in self.columns]

    def max_value(self, index: int = 1) -> int:
        values = [row[index] for row in self.rows if isinstance(row[index], int)]
        return max(values, default=0)


# --- conditions shared by every report ------------------------------------------------------------


def comment_conditions(f: Filters) -> list[ColumnElement]:
    conditions: list[ColumnElement] = [Comment.status.in_(REPORTED_STATUSES)]
    if f.consultation_id is not None:
        conditions.append(
            Comment.document_id.in_(select(Document.id).where(Document.consultation_id == f.consultation_id))
        )
    if f.document_id is not None:
        conditions.append(Comment.document_id == f.document_id)
    if f.session_id is not None:
        conditions.append(Comment.session_id == f.session_id)
    if f.region:
        conditions.append(Comment.region == f.region)
    if f.sector:
        conditions.append(Comment.sector == f.sector)
    if f.sex:
        conditions.append(Comment.sex == f.sex)
    if f.kind:
        conditions.append(Comment.kind == f.kind)
    if f.decision == "decided":
        conditions.append(Comment.decision.is_not(None))
    elif f.decision == "waiting":
        conditions.append(Comment.decision.is_(None))
    elif f.decision:
        conditions.append(Comment.decision == f.decision)
    start, end = f.utc_bounds()
    if start:
        conditions.append(Comment.created_at >= start)
    if end:
        conditions.append(Comment.created_at < end)
    return conditions


def registration_conditions(f: Filters) -> list[ColumnElement]:
    conditions: list[ColumnElement] = []
    session_conditions: list[ColumnElement] = []
    if f.consultation_id is not None:
        session_conditions.append(EventSession.consultation_id == f.consultation_id)
    start, end = f.utc_bounds()
    if start:
        session_conditions.append(EventSession.starts_at >= start)
    if end:
        session_conditions.append(EventSession.starts_at < end)
    if session_conditions:
        conditions.append(Registration.session_id.in_(select(EventSession.id).where(*session_conditions)))
    if f.session_id is not None:
        conditions.append(Registration.session_id == f.session_id)
    if f.region:
        conditions.append(Registration.region == f.region)
    if f.sector:
        conditions.append(Registration.sector == f.sector)
    if f.sex:
        conditions.append(Registration.sex == f.sex)
    return conditions


# --- participation ---------------------------------------------------------------------------------

PARTICIPATION_DIMENSIONS = {
    "session": _l("Participation by session"),
    "region": _l("Participation by region"),
    "sector": _l("Participation by sector"),
    "sex": _l("Participation by sex"),
}


def _registration_count(condition: ColumnElement, unique: bool) -> ColumnElement:
    # COUNT skips NULLs, so CASE without ELSE counts only the rows that meet the condition.
    if unique:
        return func.count(distinct(case((condition, Registration.email_normalized))))
    return func.count(case((condition, Registration.id)))


def _participation_measures(unique: bool) -> list[ColumnElement]:
    confirmed = Registration.status == RegistrationStatus.CONFIRMED.value
    attended = Registration.checked_in_at.is_not(None) & (
        Registration.status != RegistrationStatus.CANCELLED.value
    )
    measures = [
        _registration_count(confirmed, unique),
        _registration_count(attended, unique),
        _registration_count(Registration.status == RegistrationStatus.WAITLISTED.value, unique),
        _registration_count(Registration.status == RegistrationStatus.CANCELLED.value, unique),
    ]
    for sex in SEXES:
        measures.append(_registration_count(confirmed & (Registration.sex == sex), unique))
    for sex in SEXES:
        measures.append(_registration_count(attended & (Registration.sex == sex), unique))
    return measures


def participation_columns(first: object) -> list[Column]:
    columns = [
        Column("group", first, width=36),
        Column("registered", _l("Registered (confirmed)"), numeric=True),
        Column("attended", _l("Attended"), numeric=True),
        Column("waitlisted", _l("On the waiting list"), numeric=True),
        Column("cancelled", _l("Cancelled"), numeric=True),
    ]
    for sex, sex_label in SEXES.items():
        columns.append(
            Column(f"registered_{sex}", _l("Registered: %(sex)s", sex=sex_label), numeric=True, width=18)
        )
    for sex, sex_label in SEXES.items():
        columns.append(
            Column(f"attended_{sex}", _l("Attended: %(sex)s", sex=sex_label), numeric=True, width=18)
        )
    return columns


def _ordered(rows: dict, vocabulary: dict) -> list:
    """Groups in the vocabulary's order, unknown codes after them."""
    known = [code for code in vocabulary if code in rows]
    return known + sorted(code for code in rows if code not in vocabulary)


def participation(session: Session, f: Filters, by: str, unique: bool = False) -> Table:
    """Registered, attended, waiting and cancelled per session, region, sector or sex, each also by sex.

    With `unique`, a person (their normalised e-mail) counts once per group and once in the total even
    when they took part in several sessions; the total is its own query so it is never a sum of groups
    that could count one person twice.
    """
    dimensions = {
        "session": (Registration.session_id, _l("Session")),
        "region": (Registration.region, _l("Region")),
        "sector": (Registration.sector, _l("Sector")),
        "sex": (Registration.sex, _l("Sex")),
    }
    if by not in dimensions:
        raise ReportError(by)
    dimension, first = dimensions[by]
    conditions = registration_conditions(f)
    measures = _participation_measures(unique)
    grouped = {
        key: tuple(values)
        for key, *values in session.execute(
            select(dimension, *measures).where(*conditions).group_by(dimension)
        ).all()
    }
    total = session.execute(select(*measures).where(*conditions)).one()
    if by == "session":
        order_and_labels = session_labels(session, list(grouped))
        rows = [(name, *grouped[key]) for key, name in order_and_labels]
    else:
        vocabulary = {"region": REGIONS, "sector": SECTORS, "sex": SEXES}[by]
        rows = [(label(vocabulary, key), *grouped[key]) for key in _ordered(grouped, vocabulary)]
    title = PARTICIPATION_DIMENSIONS[by]
    if unique:
        title = _l("%(title)s — unique participants", title=title)
    return Table(
        key=f"participation_{by}",
        title=title,
        columns=participation_columns(first),
        rows=rows,
        total=(str(_l("Total")), *total),
    )


def session_labels(session: Session, session_ids: list[int]) -> list[tuple[int, str]]:
    """(id, "title · date") for the given sessions, in the order they take place."""
    if not session_ids:
        return []
    rows = session.execute(
        select(EventSession.id, EventSession.title, EventSession.starts_at)
        .where(EventSession.id.in_(session_ids))
        .order_by(EventSession.starts_at, EventSession.id)
    ).all()
    return [
        (sid, f"{localized(title)} · {starts.astimezone(BISHKEK):%Y-%m-%d}") for sid, title, starts in rows
    ]


# --- feedback ---------------------------------------------------------------------------------------

COMMENT_DIMENSIONS = {
    "kind": (Comment.kind, COMMENT_KINDS, _l("Kind of comment"), _l("Comments by kind")),
    "sector": (Comment.sector, SECTORS, _l("Sector"), _l("Comments by sector")),
    "region": (Comment.region, REGIONS, _l("Region"), _l("Comments by region")),
    "sex": (Comment.sex, SEXES, _l("Sex"), _l("Comments by sex")),
    "source": (Comment.source, COMMENT_SOURCES, _l("Source"), _l("Comments by source")),
    "decision": (Comment.decision, DECISIONS, _l("Decision"), _l("Decided and waiting")),
}


def _comment_count(condition: ColumnElement) -> ColumnElement:
    return func.count(case((condition, Comment.id)))


def _comment_measures() -> list[ColumnElement]:
    return [
        func.count(Comment.id),
        *(_comment_count(Comment.sex == sex) for sex in SEXES),
        _comment_count(Comment.decision.is_not(None)),
        _comment_count(Comment.decision.is_(None)),
    ]


def comment_columns(first: object) -> list[Column]:
    return [
        Column("group", first, width=36),
        Column("comments", _l("Comments"), numeric=True),
        *(Column(f"comments_{sex}", sex_label, numeric=True) for sex, sex_label in SEXES.items()),
        Column("decided", _l("Decided"), numeric=True),
        Column("waiting", _l("Waiting for a decision"), numeric=True, width=18),
    ]


def comment_breakdown(session: Session, f: Filters, by: str) -> Table:
    """Comments per kind, sector, region, sex, source or decision, each split by sex and decided/waiting."""
    if by not in COMMENT_DIMENSIONS:
        raise ReportError(by)
    dimension, vocabulary, first, title = COMMENT_DIMENSIONS[by]
    conditions = comment_conditions(f)
    measures = _comment_measures()
    grouped = {
        key: tuple(values)
        for key, *values in session.execute(
            select(dimension, *measures).where(*conditions).group_by(dimension)
        ).all()
    }
    total = session.execute(select(*measures).where(*conditions)).one()
    rows = []
    for key in _ordered({k: v for k, v in grouped.items() if k is not None}, vocabulary):
        rows.append((label(vocabulary, key), *grouped[key]))
    if None in grouped:  # only decisions can be missing: those comments still wait
        rows.append((str(DECISION_STATUSES["waiting"]), *grouped[None]))
    return Table(
        key=f"comments_{by}",
        title=title,
        columns=comment_columns(first),
        rows=rows,
        total=(str(_l("Total")), *total),
    )


def comments_per_item(session: Session, f: Filters, lang: str | None = None) -> Table:
    """Comments on each document item, most-discussed first, split by kind and decided/waiting."""
    conditions = comment_conditions(f)
    measures = [
        func.count(Comment.id),
        *(_comment_count(Comment.kind == kind) for kind in COMMENT_KINDS),
        _comment_count(Comment.decision.is_not(None)),
        _comment_count(Comment.decision.is_(None)),
    ]
    grouped = session.execute(
        select(Comment.item_id, *measures)
        .where(*conditions)
        .group_by(Comment.item_id)
        .order_by(func.count(Comment.id).desc(), Comment.item_id)
    ).all()
    item_ids = [row[0] for row in grouped if row[0] is not None]
    items = {}
    if item_ids:
        items = {
            item_id: (number, position, heading, text, fields, document_title)
            for item_id, number, position, heading, text, fields, document_title in session.execute(
                select(
                    DocumentItem.id,
                    DocumentItem.number,
                    DocumentItem.position,
                    DocumentItem.heading,
                    DocumentItem.text,
                    DocumentItem.fields,
                    Document.title,
                )
                .join(Document, Document.id == DocumentItem.document_id)
                .where(DocumentItem.id.in_(item_ids))
            )
        }
    # With more than one document in view, "1.1" alone is ambiguous: name the document too.
    several = f.document_id is None and len({entry[5] and str(entry[5]) for entry in items.values()}) > 1
    rows = []
    for item_id, *values in grouped:
        if item_id is None:
            name = str(_l("The document as a whole"))
        else:
            number, _position, heading, text, fields, document_title = items[item_id]
            words = (
                str(localized(heading, lang))
                or str(localized((fields or {}).get("activity"), lang))
                or str(localized(text, lang))
            )
            name = f"{number} {_shorten(words)}".strip()
            if several:
                name = f"{_shorten(str(localized(document_title, lang)), 40)} · {name}"
        rows.append((name, *values))
    total = session.execute(select(*measures).where(*conditions)).one()
    return Table(
        key="comments_per_item",
        title=_l("Comments per item (most-discussed first)"),
        columns=[
            Column("item", _l("Item"), width=48),
            Column("comments", _l("Comments"), numeric=True),
            *(Column(f"kind_{kind}", kind_label, numeric=True) for kind, kind_label in COMMENT_KINDS.items()),
            Column("decided", _l("Decided"), numeric=True),
            Column("waiting", _l("Waiting for a decision"), numeric=True, width=18),
        ],
        rows=rows,
        total=(str(_l("Total")), *total),
    )


def _shorten(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _day_bucket(session: Session, period: str) -> ColumnElement:
    """The Bishkek calendar day (or the Monday of its week) a comment was made on, computed in SQL."""
    if session.get_bind().dialect.name == "sqlite":
        # Stored as naive UTC; Bishkek is UTC+6 all year (no daylight saving since 2005).
        if period == "week":
            return func.date(Comment.created_at, "+6 hours", "weekday 0", "-6 days")
        return func.date(Comment.created_at, "+6 hours")
    local = func.timezone("Asia/Bishkek", Comment.created_at)
    return func.date(func.date_trunc("week" if period == "week" else "day", local))


def comments_over_time(session: Session, f: Filters, period: str = "day") -> Table:
    if period not in ("day", "week"):
        raise ReportError(period)
    bucket = _day_bucket(session, period).label("bucket")
    grouped = session.execute(
        select(bucket, func.count(Comment.id)).where(*comment_conditions(f)).group_by(bucket).order_by(bucket)
    ).all()
    rows = []
    for day, count in grouped:
        day = date.fromisoformat(day) if isinstance(day, str) else day
        rows.append((day.isoformat(), count))
    first = _l("Week starting") if period == "week" else _l("Day")
    return Table(
        key=f"comments_per_{period}",
        title=_l("Comments per week") if period == "week" else _l("Comments per day"),
        columns=[Column("period", first, width=16), Column("comments", _l("Comments"), numeric=True)],
        rows=rows,
        total=(str(_l("Total")), sum(count for _day, count in rows)),
    )


def feedback_tables(session: Session, f: Filters, period: str = "day") -> list[Table]:
    """Everything the feedback dashboard and the summary workbook show, in reading order."""
    return [
        comments_per_item(session, f),
        *(comment_breakdown(session, f, by) for by in COMMENT_DIMENSIONS),
        comments_over_time(session, f, period),
    ]


def participation_tables(session: Session, f: Filters, unique: bool = False) -> list[Table]:
    return [participation(session, f, by, unique) for by in PARTICIPATION_DIMENSIONS]


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
        Column("created_at", _l("Received (Bishkek time)"), width=18),
    ]
    return columns


def _comment_list_select(f: Filters) -> Select:
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
        )
        .outerjoin(DocumentItem, DocumentItem.id == Comment.item_id)
        .outerjoin(EventSession, EventSession.id == Comment.session_id)
        .where(*comment_conditions(f))
        .order_by(Comment.document_id, func.coalesce(DocumentItem.position, -1), Comment.id)
    )


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
    decision_part: str
    justification: str
    created_at: datetime
    item_fields: dict[str, str] = field(default_factory=dict)  # an action-plan row's columns, by name

    def as_row(self, contacts: bool) -> tuple:
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
            self.decision_part,
            self.justification,
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
        )

    def label(self, vocabulary: str, code: str | None) -> str:
        if code is None:
            return ""
        return self.vocabularies[vocabulary].get(code, code)

    def text(self, texts: dict | None) -> str:
        """The stored text in the reader's language, else in the first language that has it."""
        texts = texts or {}
        for candidate in (self.lang, *self.fallbacks):
            if texts.get(candidate):
                return texts[candidate]
        return next((value for value in texts.values() if value), "")

    def item_text(self, text: dict | None, fields: dict | None) -> str:
        """An item's current draft text; action-plan rows keep theirs in columns, so join those."""
        value = self.text(text)
        if value or not fields:
            return value
        parts = [self.text(fields.get(name)) for name in ("activity", "indicator", "responsible")]
        return " · ".join(part for part in parts if part)


def comment_records(session: Session, f: Filters, lang: str | None = None) -> Iterator[CommentRow]:
    """Every reported comment under the filters, streamed from the database in document order."""
    labels = Labels.now(lang)
    stmt = _comment_list_select(f).execution_options(yield_per=STREAM_BATCH)
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
            decision_part=decision_part or "",
            justification=labels.text(justification),
            # Bishkek wall-clock time without a zone: a spreadsheet's date cells have none.
            created_at=created_at.astimezone(BISHKEK).replace(tzinfo=None),
            item_fields={name: labels.text(value) for name, value in (fields or {}).items()}
            if fields
            else {},
        )


def comment_list(session: Session, f: Filters, contacts: bool, lang: str | None = None) -> Table:
    """One row per comment. `contacts` adds the author's e-mail (organisers and admins only)."""
    return Table(
        key="comments",
        title=_l("All comments"),
        columns=comment_list_columns(contacts),
        rows=(record.as_row(contacts) for record in comment_records(session, f, lang)),
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


# --- what is available to filter by ---------------------------------------------------------------


def filter_choices(session: Session) -> dict[str, list[tuple[int, str]]]:
    consultations = session.execute(select(Consultation.id, Consultation.title).order_by(Consultation.id))
    documents = session.execute(
        select(Document.id, Document.title, Document.version).order_by(Document.consultation_id, Document.id)
    )
    sessions = session.execute(select(EventSession.id).order_by(EventSession.starts_at, EventSession.id))
    return {
        "consultation": [(cid, str(localized(title))) for cid, title in consultations],
        "document": [
            (did, str(_l("%(title)s, version %(version)s", title=localized(title), version=version)))
            for did, title, version in documents
        ],
        "session": session_labels(session, list(sessions.scalars())),
    }


def totals(session: Session, f: Filters) -> dict[str, int]:
    """Headline numbers for a title page: comments, items commented on, decided, waiting."""
    row = session.execute(
        select(
            func.count(Comment.id),
            func.count(distinct(Comment.item_id)),
            _comment_count(Comment.decision.is_not(None)),
            _comment_count(Comment.decision.is_(None)),
        ).where(*comment_conditions(f))
    ).one()
    return {"comments": row[0], "items": row[1], "decided": row[2], "waiting": row[3]}

"""Breakdowns: participation and feedback counted by sex, region, sector, session, item and day."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, case, distinct, func, select
from sqlalchemy.orm import Session

from eventreg.i18n import localized
from eventreg.models import (
    Comment,
    Document,
    DocumentItem,
    Registration,
    RegistrationStatus,
)
from eventreg.reports.queries.filters import (
    DECISION_STATUSES,
    Filters,
    ReportError,
    comment_conditions,
    registration_conditions,
    session_labels,
)
from eventreg.reports.queries.table import Column, Table
from eventreg.vocabulary import (
    COMMENT_KINDS,
    COMMENT_SOURCES,
    DECISIONS,
    REGIONS,
    SECTORS,
    SEXES,
    label,
)

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

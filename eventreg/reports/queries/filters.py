"""What every report is filtered by, and which comments and registrations count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from eventreg.i18n import localized
from eventreg.models import (
    COUNTED_COMMENT_STATUSES,
    Comment,
    Consultation,
    Document,
    EventSession,
    Registration,
)

BISHKEK = ZoneInfo("Asia/Bishkek")
REPORTED_STATUSES = COUNTED_COMMENT_STATUSES
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


# --- conditions shared by every report ------------------------------------------------------------


def comment_conditions(f: Filters, statuses: tuple[str, ...] = REPORTED_STATUSES) -> list[ColumnElement]:
    """Which comments a report counts: by default every one received and not hidden or merged.

    `statuses` narrows that for the public results page (published comments only).
    """
    conditions: list[ColumnElement] = [Comment.status.in_(statuses)]
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

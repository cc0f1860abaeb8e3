"""Open data: a consultation's published comments and the decisions on them, as CSV and JSON.

One function builds the rows; the CSV (through the reports' CSV writer, so ң ө ү open in Excel and no
cell runs as a formula) and the JSON are written from the same rows. Ids are the comments' own ids,
stable across downloads. Decisions appear once the document's results are published, as on the
"what we heard" page; authors appear as `public_author` shows them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, g, json
from sqlalchemy import select
from sqlalchemy.orm import Session

from eventreg.api.common import text, timestamp
from eventreg.api.routes import _consultation_or_404, bp
from eventreg.consultation.services import public_author
from eventreg.extensions import db
from eventreg.models import Comment, CommentStatus, Consultation, Document, DocumentItem
from eventreg.reports.exports import csv_stream
from eventreg.reports.queries import Column, Table
from eventreg.vocabulary import COMMENT_KINDS, DECISIONS, label

LICENCE = {"name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"}
COLUMNS = (
    "comment_id",
    "document",
    "document_version",
    "item",
    "kind",
    "kind_label",
    "body",
    "proposed_wording",
    "language",
    "author",
    "created_at",
    "decision",
    "decision_label",
    "decision_part",
    "justification",
)


def open_data_rows(session: Session, consultation: Consultation) -> list[tuple]:
    """One row per published comment of the consultation, oldest first, in the request's language."""
    stmt = (
        select(Comment, Document, DocumentItem.number)
        .join(Document, Document.id == Comment.document_id)
        .outerjoin(DocumentItem, DocumentItem.id == Comment.item_id)
        .where(Document.consultation_id == consultation.id, Comment.status == CommentStatus.PUBLISHED.value)
        .order_by(Comment.id)
    )
    rows = []
    for comment, document, number in session.execute(stmt):
        decided = comment.decision if document.results_published else None
        rows.append(
            (
                comment.id,
                document.key,
                document.version,
                number or "",
                comment.kind,
                label(COMMENT_KINDS, comment.kind),
                comment.body,
                comment.proposed_wording or "",
                comment.language,
                public_author(comment),
                timestamp(comment.created_at),
                decided or "",
                label(DECISIONS, decided) if decided else "",
                text(comment.decision_part) if decided else "",
                text(comment.justification) if decided else "",
            )
        )
    return rows


def _filename(consultation: Consultation, extension: str) -> str:
    return f"{consultation.slug}-comments-{datetime.now(UTC):%Y-%m-%d}.{extension}"


def _open(response: Response, filename: str) -> Response:
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Link"] = f'<{LICENCE["url"]}>; rel="license"'
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/consultations/<slug>/open-data.json")
def open_data_json(slug: str):
    consultation = _consultation_or_404(slug)
    rows = open_data_rows(request_session(), consultation)
    body = {
        "consultation": consultation.slug,
        "title": text(consultation.title),
        "language": g.lang,
        "licence": LICENCE,
        "generated_at": timestamp(datetime.now(UTC)),
        "comments": [dict(zip(COLUMNS, row, strict=True)) for row in rows],
    }
    response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")
    return _open(response, _filename(consultation, "json"))


@bp.get("/consultations/<slug>/open-data.csv")
def open_data_csv(slug: str):
    consultation = _consultation_or_404(slug)
    table = Table(
        key="open-data",
        title="",
        columns=[Column(name, name) for name in COLUMNS],
        rows=open_data_rows(request_session(), consultation),
    )
    response = Response(csv_stream(table), mimetype="text/csv")
    response.charset = "utf-8"
    return _open(response, _filename(consultation, "csv"))


def request_session() -> Session:
    return db.session

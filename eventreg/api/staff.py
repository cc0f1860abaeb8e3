"""/api/v1 with an API key: registrations, every comment, the reports' rows, and organisers' writes.

Reads reuse the reports' query functions (one function per report, as the dashboards and downloads);
writes go through `moderation.services.enter_comment` and `decide_comment`, recorded under the admin who
created the key. Answers carrying personal data are never cached.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select

from eventreg.api.common import coded, form_errors, json_formdata, paginate, text, timestamp
from eventreg.api.keys import acting_user, key_required, touch_key
from eventreg.api.problems import ApiProblem
from eventreg.api.routes import _consultation_or_404, bp
from eventreg.db import unit_of_work
from eventreg.extensions import csrf, db
from eventreg.models import (
    Comment,
    CommentKind,
    CommentSource,
    CommentStatus,
    Decision,
    Document,
    EventSession,
    Registration,
    RegistrationStatus,
    Role,
)
from eventreg.moderation import services as moderation
from eventreg.moderation.forms import PaperEntryForm, decision_form
from eventreg.reports import queries
from eventreg.vocabulary import REGIONS, SECTORS, SEXES

ORGANISER = Role.ORGANISER.value
ANALYST = Role.ANALYST.value


def _private(response):
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _registration(row: Registration) -> dict:
    return {
        "id": row.id,
        "session": row.session.slug,
        "status": coded(row.status, RegistrationStatus),
        "full_name": row.full_name,
        "email": row.email,
        "phone": row.phone,
        "organisation": row.organisation,
        "position": row.position,
        "sector": coded(row.sector, SECTORS),
        "region": coded(row.region, REGIONS),
        "sex": coded(row.sex, SEXES),
        "interpretation_language": row.interpretation_language,
        "source": row.source,
        "created_at": timestamp(row.created_at),
        "checked_in_at": timestamp(row.checked_in_at),
    }


@bp.get("/consultations/<slug>/registrations")
@key_required(ORGANISER)
def registrations(slug: str):
    consultation = _consultation_or_404(slug)
    stmt = (
        select(Registration)
        .join(EventSession, EventSession.id == Registration.session_id)
        .where(EventSession.consultation_id == consultation.id)
    )
    return _private(jsonify(paginate(db.session, stmt, Registration, _registration)))


def _full_comment(row: Comment) -> dict:
    return {
        "id": row.id,
        "document_id": row.document_id,
        "item_id": row.item_id,
        "item": row.item.number if row.item is not None else None,
        "status": coded(row.status, CommentStatus),
        "kind": coded(row.kind, CommentKind),
        "body": row.body,
        "proposed_wording": row.proposed_wording,
        "language": row.language,
        "author_name": row.author_name,
        "organisation": row.organisation,
        "sector": coded(row.sector, SECTORS),
        "region": coded(row.region, REGIONS),
        "sex": coded(row.sex, SEXES),
        "email": row.email,
        "show_name": row.show_name,
        "source": coded(row.source, CommentSource),
        "session_id": row.session_id,
        "duplicate_of_id": row.duplicate_of_id,
        "decision": coded(row.decision, Decision),
        # The part in the request's language (a string, as before it was kept per language), and all of them.
        "decision_part": text(row.decision_part) or None,
        "decision_part_by_language": row.decision_part or {},
        "justification": row.justification or {},
        "created_at": timestamp(row.created_at),
    }


@bp.get("/consultations/<slug>/all-comments")
@key_required(ORGANISER)
def all_comments(slug: str):
    """Every comment, whatever its moderation state, with the author's details."""
    consultation = _consultation_or_404(slug)
    stmt = (
        select(Comment)
        .join(Document, Document.id == Comment.document_id)
        .where(Document.consultation_id == consultation.id)
    )
    return _private(jsonify(paginate(db.session, stmt, Comment, _full_comment)))


# --- the reports' rows ------------------------------------------------------------------------------------


def _report_builders() -> dict:
    builders = {
        "comments-per-item": lambda s, f, contacts: queries.comments_per_item(s, f, g.lang),
        "comments-over-time": lambda s, f, contacts: queries.comments_over_time(s, f, "day"),
        "comment-list": lambda s, f, contacts: queries.comment_list(s, f, contacts, g.lang),
        "registration-list": lambda s, f, contacts: queries.registration_list(s, f, contacts, g.lang),
    }
    for by in queries.COMMENT_DIMENSIONS:
        builders[f"comments-by-{by}"] = lambda s, f, contacts, by=by: queries.comment_breakdown(s, f, by)
    for by in queries.PARTICIPATION_DIMENSIONS:
        builders[f"participation-by-{by}"] = lambda s, f, contacts, by=by: queries.participation(s, f, by)
    return builders


def _plain(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@bp.get("/report-rows")
@key_required(ANALYST, ORGANISER)
def report_index():
    return jsonify({"reports": sorted(_report_builders())})


@bp.get("/report-rows/<name>")
@key_required(ANALYST, ORGANISER)
def report(name: str):
    """One report's rows, with the same filters (and the same meaning) as the dashboards' query string."""
    from eventreg.reports.routes import parse_filters

    builder = _report_builders().get(name)
    if builder is None:
        raise ApiProblem(404, _("There is no report with this name."), code="no-report")
    wanted = parse_filters(request.args, queries.filter_choices(db.session))
    if wanted.problems:
        raise ApiProblem(400, " ".join(dict.fromkeys(str(p) for p in wanted.problems)))
    # Contacts (e-mail, phone) only for organisers' keys, as in the downloads.
    contacts = g.api_key.role in (Role.ADMIN.value, ORGANISER)
    table = builder(db.session, wanted.filters, contacts)
    body = {
        "report": name,
        "title": str(table.title),
        "columns": [{"key": c.key, "label": str(c.label)} for c in table.columns],
        "rows": [[_plain(v) for v in row] for row in table.rows],
        "total": [_plain(v) for v in table.total] if table.total else None,
    }
    return _private(jsonify(body))


# --- organisers' writes -----------------------------------------------------------------------------------


@bp.post("/paper-comments")
@csrf.exempt  # JSON only, and the key is a header a browser never adds by itself
@key_required(ORGANISER)
def paper_comment():
    """A comment given on paper, aloud, by letter or e-mail, typed in through `enter_comment`."""
    documents = [(str(i), str(i)) for i in db.session.scalars(select(Document.id).where(Document.is_current))]
    sessions = [(str(i), str(i)) for i in db.session.scalars(select(EventSession.id))]
    form = PaperEntryForm(
        formdata=json_formdata(), documents=documents, sessions=sessions, meta={"csrf": False}
    )
    if not form.validate():
        raise ApiProblem(422, errors=form_errors(form))
    try:
        with unit_of_work(db.session):
            touch_key(db.session)
            comment = moderation.enter_comment(db.session, **form.entry(), by=acting_user())
    except moderation.UnknownItem:
        raise ApiProblem(
            422, errors=[{"field": "item_number", "detail": _("This document has no item with this number.")}]
        ) from None
    except moderation.SessionMismatch:
        detail = _("This session belongs to another consultation than the document.")
        raise ApiProblem(422, errors=[{"field": "event_session", "detail": detail}]) from None
    return _private(jsonify(_full_comment(comment))), 201


@bp.post("/comments/<int:comment_id>/decision")
@csrf.exempt  # JSON only, as above
@key_required(ORGANISER)
def decide(comment_id: int):
    """Record a decision through `decide_comment`: decision, part_ru/_ky/_en, justification_ru/_ky/_en as on
    the page. A single `part` (how clients sent it before it was kept per language) is the part in the
    comment's language."""
    formdata = json_formdata()
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise ApiProblem(404, _("There is no comment with this number."), code="no-comment")
    if "part" in formdata and not any(key.startswith("part_") for key in formdata):
        formdata.add(f"part_{comment.language}", formdata.get("part"))
    form = decision_form(formdata=formdata, meta={"csrf": False})
    if not form.validate():
        raise ApiProblem(422, errors=form_errors(form))
    try:
        with unit_of_work(db.session):
            touch_key(db.session)
            change = moderation.decide_comment(
                db.session,
                comment_id,
                form.decision.data,
                form.justification(),
                form.decision_part(),
                by=acting_user(),
            )
    except moderation.PartRequired as refused:
        detail = _("Please say which part of the comment is accepted.")
        errors = [
            {"field": f"part_{code}", "detail": detail} for code in refused.languages or [comment.language]
        ]
        raise ApiProblem(422, errors=errors) from None
    except moderation.ReasonRequired as refused:
        detail = _("A rejection needs its reason in the language of the comment.")
        errors = [{"field": f"justification_{code}", "detail": detail} for code in refused.languages]
        raise ApiProblem(422, errors=errors) from None
    except moderation.NotDecidable:
        detail = _("Hidden comments and duplicates are not decided on: publish it first.")
        raise ApiProblem(409, detail, code="not-decidable") from None
    except moderation.CommentNotFound:
        raise ApiProblem(404, _("There is no comment with this number."), code="no-comment") from None
    comment = db.session.get(Comment, comment_id)
    return _private(jsonify({**_full_comment(comment), "changed": change is not None}))

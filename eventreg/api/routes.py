"""/api/v1: public reads, public writes through the pages' services, errors as problem details."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, current_app, g, json, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from eventreg.api import serialise
from eventreg.api.common import choose_language, form_errors, json_formdata, paginate
from eventreg.api.problems import ApiProblem, problem
from eventreg.consultation import services as comment_services
from eventreg.consultation.forms import CommentForm
from eventreg.consultation.routes import _closed_message as comments_closed_message
from eventreg.db import unit_of_work
from eventreg.extensions import csrf, db, limiter
from eventreg.models import (
    COUNTED_COMMENT_STATUSES,
    Comment,
    CommentKind,
    CommentStatus,
    Consultation,
    Document,
    DocumentItem,
    EventSession,
    Registration,
    RegistrationStatus,
    SessionStatus,
    utcnow,
)
from eventreg.registration import availability
from eventreg.registration import services as registration_services
from eventreg.registration.forms import RegistrationForm
from eventreg.registration.links import personal_link
from eventreg.vocabulary import REGIONS, SESSION_KINDS

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def set_language():
    g.lang = choose_language()


@bp.after_request
def api_headers(response: Response):
    response.headers.setdefault("Content-Language", g.get("lang") or "")
    response.vary.add("Accept-Language")
    # Public reads are open data: any site may read them from a browser. Writes stay same-site (no
    # credentials are ever honoured cross-site and JSON writes need a CORS preflight we never answer).
    if request.method in ("GET", "HEAD"):
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
    return response


@bp.errorhandler(ApiProblem)
def api_problem(error: ApiProblem):
    return problem(error.status, error.detail, code=error.code, **error.extra)


@bp.errorhandler(HTTPException)
def http_problem(error: HTTPException):
    return problem(error.code or 500)


def _consultation_or_404(slug: str) -> Consultation:
    row = db.session.scalars(select(Consultation).where(Consultation.slug == slug)).first()
    if row is None:
        raise ApiProblem(404, _("There is no consultation with this address."), code="no-consultation")
    return row


def _current_documents(consultation_ids: list[int]) -> dict[int, list[Document]]:
    grouped: dict[int, list[Document]] = {cid: [] for cid in consultation_ids}
    if consultation_ids:
        stmt = (
            select(Document)
            .where(Document.consultation_id.in_(consultation_ids), Document.is_current.is_(True))
            .order_by(Document.key)
        )
        for document in db.session.scalars(stmt):
            grouped[document.consultation_id].append(document)
    return grouped


def _session_or_404(slug: str) -> EventSession:
    row = db.session.scalars(select(EventSession).where(EventSession.slug == slug)).first()
    if row is None or row.status == SessionStatus.DRAFT:
        raise ApiProblem(404, _("There is no session with this address."), code="no-session")
    return row


# --- reading ---------------------------------------------------------------------------------------------


@bp.get("/")
def index():
    return jsonify(
        {
            "openapi": url_for("api.openapi", _external=True),
            "reference": url_for("api.reference", _external=True),
            "consultations": url_for("api.consultations", _external=True),
            "sessions": url_for("api.sessions", _external=True),
            "languages": list(current_app.config["LANGUAGES"]),
        }
    )


@bp.get("/consultations")
def consultations():
    now = utcnow()
    page = paginate(db.session, select(Consultation), Consultation, lambda row: row)
    rows = page["items"]
    documents = _current_documents([row.id for row in rows])
    page["items"] = [serialise.consultation(row, now, documents[row.id]) for row in rows]
    return jsonify(page)


@bp.get("/consultations/<slug>")
def consultation(slug: str):
    row = _consultation_or_404(slug)
    return jsonify(serialise.consultation(row, utcnow(), _current_documents([row.id])[row.id]))


@bp.get("/sessions")
def sessions():
    """Published (and cancelled, so people learn of it) sessions, with places left."""
    stmt = select(EventSession).where(
        EventSession.status.in_([SessionStatus.PUBLISHED.value, SessionStatus.CANCELLED.value])
    )
    wanted = request.args.get("consultation", "")
    if wanted:
        stmt = stmt.where(EventSession.consultation_id == _consultation_or_404(wanted).id)
    for name, vocabulary, column in (
        ("region", REGIONS, EventSession.region),
        ("kind", SESSION_KINDS, EventSession.kind),
    ):
        value = request.args.get(name, "")
        if value:
            if value not in vocabulary:
                raise ApiProblem(400, _("Unknown value for %(name)s.", name=name))
            stmt = stmt.where(column == value)
    if request.args.get("upcoming", "") in ("1", "true"):
        stmt = stmt.where(EventSession.ends_at >= utcnow())
    page = paginate(db.session, stmt, EventSession, lambda row: row)
    rows = page["items"]
    places = availability.for_sessions(db.session, rows, utcnow())
    page["items"] = [serialise.event_session(row, places[row.id]) for row in rows]
    return jsonify(page)


@bp.get("/sessions/<slug>")
def session_detail(slug: str):
    row = _session_or_404(slug)
    return jsonify(serialise.event_session(row, availability.for_session(db.session, row, utcnow())))


@bp.get("/consultations/<slug>/documents/<key>")
def document(slug: str, key: str):
    """The current version's items as a tree, in one language; answered 304 when unchanged."""
    consultation_row = _consultation_or_404(slug)
    doc = comment_services.find_document(db.session, consultation_row, key)
    if doc is None:
        raise ApiProblem(404, _("There is no document with this key."), code="no-document")
    items = list(
        db.session.scalars(
            select(DocumentItem).where(DocumentItem.document_id == doc.id).order_by(DocumentItem.position)
        )
    )
    body = {
        "consultation": consultation_row.slug,
        "key": doc.key,
        "version": doc.version,
        "title": serialise.text(doc.title),
        "language": g.lang,
        "items": serialise.item_tree(items),
        "comments_url": url_for("api.submit_comment", slug=slug, key=key, _external=True),
    }
    data = json.dumps(body, ensure_ascii=False)
    response = Response(data, mimetype="application/json")
    # The ETag is the content itself: any change to the text, its version or the language changes it.
    response.set_etag(hashlib.sha256(data.encode()).hexdigest()[:32])
    response.headers["Cache-Control"] = "public, no-cache"
    return response.make_conditional(request)


def _published_comments_stmt(consultation_row: Consultation):
    stmt = (
        select(Comment)
        .join(Document, Document.id == Comment.document_id)
        .where(
            Document.consultation_id == consultation_row.id, Comment.status == CommentStatus.PUBLISHED.value
        )
    )
    key = request.args.get("document", "")
    if key:
        stmt = stmt.where(Document.key == key)
    return stmt


def _comment_page(stmt, serialiser) -> dict:
    page = paginate(db.session, stmt, Comment, lambda row: row)
    rows = page["items"]
    item_ids = {row.item_id for row in rows if row.item_id}
    numbers = (
        dict(
            db.session.execute(
                select(DocumentItem.id, DocumentItem.number).where(DocumentItem.id.in_(item_ids))
            ).all()
        )
        if item_ids
        else {}
    )
    document_ids = {row.document_id for row in rows}
    documents = (
        {d.id: d for d in db.session.scalars(select(Document).where(Document.id.in_(document_ids)))}
        if document_ids
        else {}
    )
    page["items"] = [serialiser(row, numbers, documents) for row in rows]
    return page


@bp.get("/consultations/<slug>/comments")
def comments(slug: str):
    """Published comments; the author as the public pages show them (name only with consent)."""
    consultation_row = _consultation_or_404(slug)
    return jsonify(_comment_page(_published_comments_stmt(consultation_row), serialise.comment))


@bp.get("/consultations/<slug>/decisions")
def decisions(slug: str):
    """The drafters' decisions with their justification, once the document's results are published."""
    consultation_row = _consultation_or_404(slug)
    stmt = _published_comments_stmt(consultation_row).where(
        Comment.decision.is_not(None), Document.results_published.is_(True)
    )
    return jsonify(_comment_page(stmt, serialise.decision))


@bp.get("/consultations/<slug>/counts")
def counts(slug: str):
    """Aggregated numbers only: comments by kind and by decision, registrations by status."""
    consultation_row = _consultation_or_404(slug)
    received = (
        select(Comment.kind, func.count(Comment.id))
        .join(Document, Document.id == Comment.document_id)
        .where(Document.consultation_id == consultation_row.id, Comment.status.in_(COUNTED_COMMENT_STATUSES))
        .group_by(Comment.kind)
    )
    by_kind = dict(db.session.execute(received).all())
    decided = (
        select(Comment.decision, func.count(Comment.id))
        .join(Document, Document.id == Comment.document_id)
        .where(
            Document.consultation_id == consultation_row.id,
            Comment.status == CommentStatus.PUBLISHED.value,
            Comment.decision.is_not(None),
            Document.results_published.is_(True),
        )
        .group_by(Comment.decision)
    )
    by_decision = dict(db.session.execute(decided).all())
    registered = (
        select(Registration.status, func.count(Registration.id))
        .join(EventSession, EventSession.id == Registration.session_id)
        .where(EventSession.consultation_id == consultation_row.id)
        .group_by(Registration.status)
    )
    by_status = dict(db.session.execute(registered).all())
    return jsonify(
        {
            "consultation": consultation_row.slug,
            "comments": {
                "received": sum(by_kind.values()),
                "by_kind": [
                    {**serialise.coded(kind.value, CommentKind), "count": by_kind.get(kind.value, 0)}
                    for kind in CommentKind
                ],
                "published_decisions": [
                    {"code": code, "count": number} for code, number in sorted(by_decision.items())
                ],
            },
            "registrations": {status.value: by_status.get(status.value, 0) for status in RegistrationStatus},
        }
    )


# --- writing (public) -------------------------------------------------------------------------------------


@bp.post("/sessions/<slug>/registrations")
@csrf.exempt  # JSON only (json_formdata refuses anything else): see the module docstring of common.py
@limiter.limit("30 per minute")  # as the registration page
def register(slug: str):
    """Register through the same form rules and the same locked service as the registration page."""
    event_session = _session_or_404(slug)
    form = RegistrationForm(formdata=json_formdata(), meta={"csrf": False})
    if not form.validate():
        raise ApiProblem(422, errors=form_errors(form))
    event_session_id, details = event_session.id, form.details(g.lang)  # not reloaded under the lock
    try:
        with unit_of_work(db.session):
            registration = registration_services.register_participant(db.session, event_session_id, details)
    except registration_services.RegistrationClosed as refused:
        raise ApiProblem(
            409, refused.reason.label, code=f"registration-closed-{refused.reason.value}"
        ) from None
    except registration_services.AlreadyRegistered:
        raise ApiProblem(
            409, _("You are already registered for this session"), code="already-registered"
        ) from None
    position = availability.waitlist_position(db.session, registration)
    body = {
        "id": registration.id,
        "session": event_session.slug,
        "status": serialise.coded(registration.status, RegistrationStatus),
        "waitlist_position": position,
        # The person's own link to see, change or cancel; it is also in the confirmation e-mail.
        "personal_link": personal_link(registration),
    }
    return jsonify(body), 201


@bp.post("/consultations/<slug>/documents/<key>/comments")
@csrf.exempt  # JSON only, as above
@limiter.limit("60 per minute")  # as the comment page: a whole room may share one address
def submit_comment(slug: str, key: str):
    """A comment on an item (`item`: its number) or on the whole document, through `create_comment`."""
    consultation_row = _consultation_or_404(slug)
    doc = comment_services.find_document(db.session, consultation_row, key)
    if doc is None:
        raise ApiProblem(404, _("There is no document with this key."), code="no-document")
    formdata = json_formdata()
    number = formdata.pop("item", "") or ""
    item_id = None
    if number:
        item_id = db.session.scalar(
            select(DocumentItem.id).where(DocumentItem.document_id == doc.id, DocumentItem.number == number)
        )
        if item_id is None:
            raise ApiProblem(
                422,
                errors=[{"field": "item", "detail": _("There is no item with this number in the document.")}],
            )
    form = CommentForm(formdata=formdata, meta={"csrf": False})
    if not form.validate():
        raise ApiProblem(422, errors=form_errors(form))
    author = form.author()
    document_id = doc.id  # not reloaded under the lock
    try:
        with unit_of_work(db.session):
            stored = comment_services.create_comment(
                db.session,
                document_id,
                item_id,
                kind=form.kind.data,
                body=form.body.data,
                proposed_wording=form.proposed_wording.data,
                language=g.lang,
                author=author,
            )
    except comment_services.CommentsClosed:
        raise ApiProblem(409, comments_closed_message(consultation_row), code="comments-closed") from None
    body = {
        "id": stored.id,
        "document": doc.key,
        "item": number or None,
        "status": serialise.coded(stored.status, CommentStatus),
    }
    return jsonify(body), 201


# --- the description --------------------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi():
    from eventreg.api.openapi import document as openapi_document

    return jsonify(openapi_document())


@bp.get("/reference")
def reference():
    from eventreg.api.openapi import document as openapi_document

    return render_template("api/reference.html", spec=openapi_document())


# Open data and the views that need an API key register on the same blueprint.
from eventreg.api import open_data, staff  # noqa: E402,F401

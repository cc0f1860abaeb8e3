"""Public pages of the consultation: the documents, clause by clause, and the comment forms.

Author details for "comment on another item" live in the Flask session (a signed cookie that ends when the
browser closes): nothing is stored on the server before the person sends a comment, the details never appear
in a URL, and "Forget my details" clears them on a shared computer.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select

from eventreg.accounts.auth import roles_required
from eventreg.accounts.routes import is_safe_next
from eventreg.consultation import services, versions
from eventreg.consultation.forms import AUTHOR_FIELDS, CommentForm, UploadForm
from eventreg.consultation.importer import parse_files
from eventreg.db import unit_of_work
from eventreg.extensions import csrf, db, limiter
from eventreg.forms import ConfirmForm, id_param
from eventreg.i18n import languages
from eventreg.models import Comment, Consultation, Document, DocumentItem, EventSession, Registration, utcnow
from eventreg.registration.services import find_by_token

bp = Blueprint("consultation", __name__, url_prefix="/<lang:lang_code>")


@bp.record_once
def _register_labels(state) -> None:
    # The words for how versions relate and for what a Word file held that is not kept, in every template.
    from eventreg.consultation.docx_reader import not_kept_label

    state.app.jinja_env.globals.update(relation_label=versions.relation_label, not_kept_label=not_kept_label)


AUTHOR_KEY = "comment_author"
LAST_COMMENT_KEY = "last_comment_id"


def _consultation_or_404(slug: str) -> Consultation:
    consultation = db.session.scalars(select(Consultation).where(Consultation.slug == slug)).first()
    if consultation is None:
        abort(404)
    return consultation


def _document_or_404(consultation: Consultation, key: str, version: int | None = None) -> Document:
    document = services.find_document(db.session, consultation, key, version)
    if document is None:
        abort(404)
    return document


def _closed_message(consultation: Consultation) -> str | None:
    now = utcnow()
    if consultation.comments_open(now):
        return None
    if consultation.comments_open_at and now < consultation.comments_open_at:
        return _(
            "Comments are not open yet. They open on %(when)s (Bishkek time).",
            when=_when(consultation.comments_open_at),
        )
    if consultation.comments_close_at and now >= consultation.comments_close_at:
        return _(
            "Comments closed on %(when)s (Bishkek time). Thank you to everyone who took part.",
            when=_when(consultation.comments_close_at),
        )
    return _("Comments are not open for this consultation.")


def _when(value) -> str:
    from eventreg.i18n import local_datetime

    return local_datetime(value)


@bp.get("/consultation")
def index():
    consultations = list(
        db.session.scalars(select(Consultation).order_by(Consultation.created_at.desc(), Consultation.id))
    )
    documents: dict[int, list[Document]] = {}
    earlier: dict[tuple[int, str], list[int]] = {}
    if consultations:
        rows = db.session.scalars(
            select(Document)
            .where(Document.consultation_id.in_([c.id for c in consultations]))
            .order_by(Document.id)
        )
        for document in rows:
            if document.is_current:
                documents.setdefault(document.consultation_id, []).append(document)
            else:
                earlier.setdefault((document.consultation_id, document.key), []).append(document.version)
    now = utcnow()
    return render_template(
        "consultation/index.html",
        consultations=consultations,
        documents=documents,
        earlier=earlier,
        open_now={c.id: c.comments_open(now) for c in consultations},
        closed_messages={c.id: _closed_message(c) for c in consultations},
    )


def _version_arg() -> int | None:
    raw = request.args.get("version", "")
    return id_param(raw)


@bp.get("/consultation/<slug>/<key>")
def document(slug: str, key: str):
    consultation = _consultation_or_404(slug)
    doc = _document_or_404(consultation, key, _version_arg())
    # Three queries whatever the size of the draft: the items, the counts, the published comments.
    items = list(
        db.session.scalars(
            select(DocumentItem).where(DocumentItem.document_id == doc.id).order_by(DocumentItem.position)
        )
    )
    compare = request.args.get("compare", "")
    if compare not in languages() or compare == g.lang:
        compare = ""
    closed = _closed_message(consultation)
    return render_template(
        "consultation/document.html",
        consultation=consultation,
        document=doc,
        items=items,
        counts=services.comment_counts(db.session, doc.id),
        published=services.published_comments(db.session, doc.id),
        # A first version has no ancestors: no query for it.
        earlier=versions.earlier_comments(db.session, doc.id, [i.id for i in items])
        if doc.version > 1
        else {},
        compare=compare,
        closed_message=closed,
        can_comment=closed is None and doc.is_current,
        public_author=services.public_author,
        author=session.get(AUTHOR_KEY),
    )


def _item_or_404(doc: Document, number: str | None) -> DocumentItem | None:
    if number is None:
        return None
    item = db.session.scalars(
        select(DocumentItem).where(DocumentItem.document_id == doc.id, DocumentItem.number == number)
    ).first()
    if item is None:
        abort(404)
    return item


def _prefilled_form(doc: Document) -> CommentForm:
    values = dict(session.get(AUTHOR_KEY) or {})
    values.pop("registration_id", None)
    values = {k: v for k, v in values.items() if k in AUTHOR_FIELDS}
    # Someone who already consented in this sitting need not tick the box again; they can still untick it.
    return CommentForm(formdata=None, consent=bool(values), version=str(doc.version), **values)


def _render_comment_form(consultation, doc, item, form, status=200, refused=None, moved=None):
    return (
        render_template(
            "consultation/comment.html",
            consultation=consultation,
            document=doc,
            item=item,
            form=form,
            closed_message=_closed_message(consultation),
            refused=refused,
            moved=moved,
            author=session.get(AUTHOR_KEY),
            forget_form=ConfirmForm(),
        ),
        status,
    )


def _comment_target(doc: Document, number: str | None, form: CommentForm):
    """The item a posted comment goes on, or the CommentTarget to ask about when the clause the person read
    was changed or removed by a newer version meanwhile. Returns (item, target needing a choice or None)."""
    if number is None:
        return None, None
    target = versions.comment_target(db.session, doc, id_param(form.version.data or ""), number)
    if target is None:
        abort(404)
    if target.unchanged:
        return target.successors[0], None
    choice = request.form.get("target", "")
    if choice == "document":
        return None, None
    chosen = next((i for i in target.successors if choice == f"item-{i.id}"), None)
    if chosen is not None:
        return chosen, None
    return None, target


def _registration_id_for(consultation: Consultation) -> int | None:
    """The registration behind the remembered author, if it belongs to this consultation."""
    remembered = session.get(AUTHOR_KEY) or {}
    registration_id = remembered.get("registration_id")
    if not registration_id:
        return None
    consultation_id = db.session.scalar(
        select(EventSession.consultation_id)
        .join(Registration, Registration.session_id == EventSession.id)
        .where(Registration.id == registration_id)
    )
    return registration_id if consultation_id == consultation.id else None


@bp.route("/consultation/<slug>/<key>/comment", methods=["GET", "POST"], endpoint="comment_document")
@bp.route("/consultation/<slug>/<key>/items/<number>/comment", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token, so an expired page comes back with the comment typed
@limiter.limit("60 per minute", methods=["POST"])  # a whole room may share one address
def comment(slug: str, key: str, number: str | None = None):
    consultation = _consultation_or_404(slug)
    doc = _document_or_404(consultation, key)  # comments go on the current version only
    if request.method == "GET":
        return _render_comment_form(consultation, doc, _item_or_404(doc, number), _prefilled_form(doc))
    form = CommentForm()
    item, moved = _comment_target(doc, number, form)
    if moved is not None:
        # Nothing typed is lost: the form comes back with the new wording and a choice.
        return _render_comment_form(consultation, doc, moved.shown, form, status=409, moved=moved)
    if not form.validate():
        return _render_comment_form(consultation, doc, item, form, status=400)
    author = form.author(registration_id=_registration_id_for(consultation))
    # Ids read before the unit of work begins: it expires what was loaded, and reloading rows just to
    # learn their ids would cost statements under the write lock.
    document_id, item_id = doc.id, item.id if item is not None else None
    try:
        with unit_of_work(db.session):
            stored = services.create_comment(
                db.session,
                document_id,
                item_id,
                kind=form.kind.data,
                body=form.body.data,
                proposed_wording=form.proposed_wording.data,
                language=g.lang,
                author=author,
            )
    except services.CommentsClosed:
        return _render_comment_form(
            consultation, doc, item, form, status=409, refused=_closed_message(consultation)
        )
    remembered = form.author_values()
    remembered["registration_id"] = author.registration_id
    session[AUTHOR_KEY] = remembered
    session[LAST_COMMENT_KEY] = stored.id
    return redirect(url_for("consultation.received", slug=slug, key=key), code=303)


@bp.get("/consultation/<slug>/<key>/received")
def received(slug: str, key: str):
    consultation = _consultation_or_404(slug)
    doc = _document_or_404(consultation, key)
    last = session.get(LAST_COMMENT_KEY)
    comment = db.session.get(Comment, last) if isinstance(last, int) else None
    if comment is None or comment.document.consultation_id != consultation.id:
        return redirect(url_for("consultation.document", slug=slug, key=key), code=303)
    return render_template(
        "consultation/received.html",
        consultation=consultation,
        document=doc,
        comment=comment,
        author=session.get(AUTHOR_KEY),
        forget_form=ConfirmForm(),
    )


@bp.post("/consultation/forget-me")
def forget_me():
    form = ConfirmForm()
    if form.validate():
        session.pop(AUTHOR_KEY, None)
        session.pop(LAST_COMMENT_KEY, None)
        flash(_("Your details are forgotten on this device."), "success")
    target = request.form.get("next", "")
    # Only our own pages: an open redirect would let others borrow our address.
    if not is_safe_next(target):
        target = url_for("consultation.index")
    return redirect(target, code=303)


@bp.get("/r/<token>/comment")
def comment_as_registrant(token: str):
    """The personal link's way in: remember the registration's details for the comment forms."""
    registration = find_by_token(db.session, token)
    if registration is None:
        abort(404)
    author = services.author_from_registration(registration)
    session[AUTHOR_KEY] = {
        "name": author.name,
        "organisation": author.organisation,
        "sector": author.sector,
        "region": author.region,
        "sex": author.sex,
        "email": author.email,
        "show_name": False,
        "registration_id": registration.id,
    }
    flash(
        _("Your details from your registration are filled in for your comments, %(name)s.", name=author.name),
        "info",
    )
    consultation = registration.session.consultation
    current = db.session.scalars(
        select(Document)
        .where(Document.consultation_id == consultation.id, Document.is_current.is_(True))
        .order_by(Document.id)
    ).all()
    if len(current) == 1:
        return redirect(
            url_for("consultation.document", slug=consultation.slug, key=current[0].key), code=303
        )
    return redirect(url_for("consultation.index"), code=303)


# Organiser workspace: loading a draft from files in the import format (docs/import-format.md).


def _upload_form() -> UploadForm:
    form = UploadForm()
    consultations = db.session.scalars(select(Consultation).order_by(Consultation.id)).all()
    form.consultation.choices = [(c.slug, str(_localized(c.title))) for c in consultations]
    return form


def _localized(texts):
    from eventreg.i18n import localized

    return localized(texts)


@bp.route("/organiser/documents/upload", methods=["GET", "POST"])
@roles_required("organiser")
def upload():

    form = _upload_form()
    problems = []
    status = 200
    if request.method == "POST":
        files = [f for f in request.files.getlist(form.files.name) if f and f.filename]
        slugs = [value for value, _label in form.consultation.choices]
        if form.validate() and form.consultation.data in slugs:
            if not files:
                form.files.errors = [_("Please choose at least one file.")]
                status = 400
            else:
                consultation = _consultation_or_404(form.consultation.data)
                result = parse_files([(f.filename, f.read()) for f in files], list(languages()))
                if result.ok:
                    # Nothing is stored yet: the parsed draft travels, signed, in the preview page.
                    return _render_preview(consultation, result.document, {})
                problems = result.problems
                status = 400
        else:
            if form.consultation.data not in slugs:
                form.consultation.errors = [_("Please choose one of the options offered.")]
            status = 400
    documents = db.session.scalars(
        select(Document).order_by(Document.consultation_id, Document.key, Document.version)
    ).all()
    return (
        render_template(
            "consultation/upload.html",
            form=form,
            problems=problems,
            documents=documents,
            consultations={c.id: c for c in db.session.scalars(select(Consultation))},
            max_size=current_app.config.get("MAX_CONTENT_LENGTH"),
        ),
        status,
    )


def _corrections_from(form_data, parsed) -> dict[str, str]:
    return {
        item.number: form_data.get(f"link-{item.number}", versions.AUTO)
        for item in parsed.items
        if f"link-{item.number}" in form_data
    }


def _render_preview(consultation, parsed, corrections, status=200, notice=None):
    match = versions.suggest_links(db.session, consultation.id, parsed, corrections)
    token = versions.sign_preview(
        current_app.config["SECRET_KEY"],
        consultation.id,
        match.previous.id if match.previous else None,
        parsed,
    )
    return (
        render_template(
            "consultation/preview.html",
            consultation=consultation,
            parsed=parsed,
            match=match,
            corrections=corrections,
            token=token,
            form=ConfirmForm(),
            notice=notice,
            auto=versions.AUTO,
        ),
        status,
    )


@bp.post("/organiser/documents/confirm")
@roles_required("organiser")
def confirm_upload():
    """Store the previewed draft, with the organiser's corrections to the matching, or show it again."""
    from flask_login import current_user

    form = ConfirmForm()
    try:
        consultation_id, previous_id, parsed = versions.read_preview(
            current_app.config["SECRET_KEY"], request.form.get("preview", "")
        )
    except (versions.PreviewExpired, KeyError, TypeError, ValueError):
        flash(_("The preview could not be read; please upload the files again."), "error")
        return redirect(url_for("consultation.upload"), code=303)
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        abort(404)
    corrections = _corrections_from(request.form, parsed)
    if not form.validate() or request.form.get("action") != "store":
        return _render_preview(consultation, parsed, corrections, status=200 if form.validate() else 400)
    try:
        with unit_of_work(db.session):
            document = versions.store_version(
                db.session,
                consultation.id,
                parsed,
                previous_id=previous_id,
                corrections=corrections,
                by=current_user.user,
            )
    except versions.VersionChanged:
        notice = _(
            "Another version of this document was stored while you looked at the preview. "
            "Check the matching against it and confirm again."
        )
        return _render_preview(consultation, parsed, {}, status=409, notice=notice)
    flash(
        _(
            "Imported “%(title)s”, version %(version)d.",
            title=_localized(document.title),
            version=document.version,
        ),
        "success",
    )
    return redirect(url_for("consultation.document", slug=consultation.slug, key=document.key), code=303)


def _two_versions(consultation: Consultation, key: str) -> tuple[Document, Document]:
    current = _document_or_404(consultation, key)
    new_version = id_param(request.args.get("new", "")) or current.version
    old_version = id_param(request.args.get("old", "")) or new_version - 1
    if old_version >= new_version:
        abort(404)
    return _document_or_404(consultation, key, old_version), _document_or_404(consultation, key, new_version)


@bp.get("/consultation/<slug>/<key>/changes")
def changes(slug: str, key: str):
    """The redline between two versions, clause by clause, in the reader's language; no JavaScript."""
    consultation = _consultation_or_404(slug)
    old, new = _two_versions(consultation, key)
    rows = versions.compare_versions(db.session, old, new, g.lang)
    labels = {
        "deleted_label": _("deleted:"),
        "inserted_label": _("inserted:"),
        "end_label": _("(end of change)"),
    }
    all_versions = db.session.scalars(
        select(Document.version)
        .where(Document.consultation_id == consultation.id, Document.key == key)
        .order_by(Document.version)
    ).all()
    return render_template(
        "consultation/changes.html",
        consultation=consultation,
        old=old,
        new=new,
        rows=[row for row in rows if row.relation != "unchanged"],
        unchanged=[row for row in rows if row.relation == "unchanged"],
        redline=lambda row: versions.redline(row.old_wording, row.new_wording, **labels),
        all_versions=all_versions,
    )


@bp.get("/organiser/documents/<slug>/<key>/comparative.docx")
@roles_required("organiser", "analyst")
def comparative_docx(slug: str, key: str):
    from eventreg.consultation.comparative import comparative_docx as build
    from eventreg.reports import exports

    consultation = _consultation_or_404(slug)
    old, new = _two_versions(consultation, key)
    file = build(db.session, old, new, g.lang)
    name = exports.stamped(f"comparative-table-{key}-v{old.version}-v{new.version}-{g.lang}", "docx")
    return exports.file_response(file, name, exports.DOCX_MIMETYPE)

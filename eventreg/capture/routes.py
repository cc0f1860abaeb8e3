"""Organiser pages: download a capture workbook, upload a filled one, preview it, import it."""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import HiddenField, SelectField

from eventreg.accounts.auth import roles_required
from eventreg.capture import services
from eventreg.capture.workbook import WorkbookUnreadable, build_workbook, read_workbook
from eventreg.db import unit_of_work
from eventreg.extensions import db
from eventreg.forms import BaseForm, required
from eventreg.i18n import localized
from eventreg.models import Document, DocumentItem, EventSession
from eventreg.moderation.services import SessionMismatch, UnknownItem
from eventreg.reports.exports import XLSX_MIMETYPE

bp = Blueprint("capture", __name__, url_prefix="/<lang:lang_code>/organiser/capture")

MAX_WORKBOOK = 1024 * 1024  # a filled workbook of a few hundred comments is tens of kilobytes


class DownloadForm(BaseForm):
    class Meta:
        csrf = False  # a GET that only reads

    session = SelectField(_l("Session"), validators=[required()], validate_choice=True, coerce=str)
    document = SelectField(_l("Document"), validators=[required()], validate_choice=True, coerce=str)


class UploadForm(BaseForm):
    workbook = FileField(_l("Filled capture workbook (.xlsx)"))


class ImportForm(BaseForm):
    workbook = HiddenField()


def _choices():
    sessions = list(db.session.scalars(select(EventSession).order_by(EventSession.starts_at.desc())))
    documents = list(
        db.session.scalars(select(Document).where(Document.is_current).order_by(Document.id.desc()))
    )
    return (
        [(str(s.id), str(localized(s.title))) for s in sessions],
        [(str(d.id), str(localized(d.title))) for d in documents],
    )


def _index(download: DownloadForm, upload: UploadForm, status: int = 200, problem: str | None = None):
    return render_template("capture/index.html", download=download, upload=upload, problem=problem), status


def _download_form(formdata=None) -> DownloadForm:
    form = DownloadForm(formdata=formdata)
    form.session.choices, form.document.choices = _choices()
    return form


@bp.get("/")
@roles_required("organiser")
def index():
    return _index(_download_form(), UploadForm(formdata=None))


@bp.get("/workbook.xlsx")
@roles_required("organiser")
def download():
    form = _download_form(request.args)
    if not form.validate():
        return _index(form, UploadForm(formdata=None), 400)
    event_session = db.session.get(EventSession, int(form.session.data))
    document = db.session.get(Document, int(form.document.data))
    if event_session.consultation_id != document.consultation_id:
        problem = _("This session belongs to another consultation than the document.")
        return _index(form, UploadForm(formdata=None), 400, problem)
    items = list(
        db.session.scalars(
            select(DocumentItem)
            .where(DocumentItem.document_id == document.id)
            .order_by(DocumentItem.position)
        )
    )
    data = build_workbook(event_session, document, items)
    response = Response(data, mimetype=XLSX_MIMETYPE)
    filename = f"capture-{event_session.slug}-{document.key}-v{document.version}.xlsx"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _read(data: bytes):
    """The capture, the document's item numbers known; None with a message when it cannot be read."""
    try:
        capture = read_workbook(data)
    except WorkbookUnreadable:
        return None, _("This is not a capture workbook made here, or its hidden sheets were removed.")
    document = db.session.get(Document, capture.document_id)
    event_session = db.session.get(EventSession, capture.session_id)
    if document is None or event_session is None:
        return None, _("The session or the document of this workbook no longer exists.")
    numbers = set(
        db.session.scalars(select(DocumentItem.number).where(DocumentItem.document_id == document.id))
    )
    capture = read_workbook(data, {n.rstrip(".") for n in numbers})
    return capture, None


@bp.post("/preview")
@roles_required("organiser")
def preview():
    upload = UploadForm()
    file = request.files.get("workbook")
    data = file.read(MAX_WORKBOOK + 1) if file else b""
    problem = None
    if not upload.validate():
        problem = _("The page had expired. Please go back, reload the page and try again.")
    elif not data:
        problem = _("Please choose a file.")
    elif len(data) > MAX_WORKBOOK:
        problem = _("Please shorten your text or send a smaller file, then try again.")
    capture = None
    if problem is None:
        capture, problem = _read(data)
    if problem is not None:
        return _index(_download_form(), upload, 400, problem)
    already = services.already_imported(db.session, capture)
    return render_template(
        "capture/preview.html",
        capture=capture,
        already=already,
        event_session=db.session.get(EventSession, capture.session_id),
        document=db.session.get(Document, capture.document_id),
        form=ImportForm(formdata=None, workbook=base64.b64encode(data).decode()),
    )


@bp.post("/import")
@roles_required("organiser")
def import_rows():
    form = ImportForm()
    if not form.validate():
        abort(400)
    try:
        data = base64.b64decode(form.workbook.data or "", validate=True)
    except (binascii.Error, ValueError):
        abort(400)
    capture, problem = _read(data)
    if problem is not None:
        flash(problem, "warning")
        return redirect(url_for("capture.index"), code=303)
    try:
        with unit_of_work(db.session):
            result = services.import_capture(db.session, capture, by=current_user.user)
    except SessionMismatch:
        flash(_("This session belongs to another consultation than the document."), "warning")
        return redirect(url_for("capture.index"), code=303)
    except (UnknownItem, services.SessionNotFound):
        flash(_("The session or the document of this workbook no longer exists."), "warning")
        return redirect(url_for("capture.index"), code=303)
    flash(
        ngettext("%(num)d comment imported.", "%(num)d comments imported.", result.imported)
        + " "
        + ngettext(
            "%(num)d row was imported before and was skipped.",
            "%(num)d rows were imported before and were skipped.",
            result.already,
        ),
        "success",
    )
    if capture.problems:
        flash(
            ngettext(
                "%(num)d row with a problem was not imported: correct it and upload the file again.",
                "%(num)d rows with problems were not imported: correct them and upload the file again.",
                len({(p.sheet, p.row) for p in capture.problems}),
            ),
            "warning",
        )
    return redirect(url_for("capture.index"), code=303)

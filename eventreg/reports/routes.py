"""Reports for the ministry: dashboards and downloads (staff), and the public "what we heard" page.

Every view reads its filters from the query string with `parse_filters`, then calls the same report
functions in `queries`; a download link carries the page's query string, so the file holds exactly
the rows on screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from eventreg.accounts.auth import roles_required
from eventreg.db import unit_of_work
from eventreg.extensions import db
from eventreg.forms import EARLIEST_YEAR, LATEST_YEAR, ConfirmForm, id_param
from eventreg.models import Consultation, Document
from eventreg.reports import exports, queries, services
from eventreg.reports.queries import DECISION_STATUSES, Filters
from eventreg.vocabulary import COMMENT_KINDS, DECISIONS, REGIONS, SECTORS, SEXES

bp = Blueprint("reports", __name__, url_prefix="/<lang:lang_code>/reports")
# The public page lives outside /reports (no login); it is registered together with `bp`.
public_bp = Blueprint("results", __name__, url_prefix="/<lang:lang_code>/results")


@bp.record_once
def _register_public_pages(state) -> None:
    state.app.register_blueprint(public_bp)


@dataclass
class FilterRequest:
    filters: Filters
    unique: bool = False
    period: str = "day"
    problems: list[str] = field(default_factory=list)


def _int_choice(args: MultiDict, name: str, allowed: set[int], problems: list[str]) -> int | None:
    raw = args.get(name, "").strip()
    if not raw:
        return None
    if id_param(raw) in allowed:
        return id_param(raw)
    problems.append(_("Please choose one of the options offered."))
    return None


def _code_choice(args: MultiDict, name: str, allowed, problems: list[str]) -> str | None:
    raw = args.get(name, "").strip()
    if not raw:
        return None
    if raw in allowed:
        return raw
    problems.append(_("Please choose one of the options offered."))
    return None


def _date(args: MultiDict, name: str, problems: list[str]) -> date | None:
    raw = args.get(name, "").strip()
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        problems.append(_("Please enter a date like 2021-10-12."))
        return None
    if not (EARLIEST_YEAR <= value.year <= LATEST_YEAR):
        problems.append(
            _("Please enter a date between %(first)s and %(last)s.", first=EARLIEST_YEAR, last=LATEST_YEAR)
        )
        return None
    return value


def parse_filters(args: MultiDict, choices: dict) -> FilterRequest:
    """Filters from the query string; anything not offered is reported and ignored, never a 500."""
    problems: list[str] = []
    ids = {name: {value for value, _label in options} for name, options in choices.items()}
    filters = Filters(
        consultation_id=_int_choice(args, "consultation", ids["consultation"], problems),
        document_id=_int_choice(args, "document", ids["document"], problems),
        session_id=_int_choice(args, "session", ids["session"], problems),
        region=_code_choice(args, "region", REGIONS, problems),
        sector=_code_choice(args, "sector", SECTORS, problems),
        sex=_code_choice(args, "sex", SEXES, problems),
        kind=_code_choice(args, "kind", COMMENT_KINDS, problems),
        decision=_code_choice(args, "decision", {**DECISION_STATUSES, **DECISIONS}, problems),
        date_from=_date(args, "date_from", problems),
        date_to=_date(args, "date_to", problems),
    )
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        problems.append(_("The start date must not be after the end date."))
    period = args.get("period", "day")
    if period not in ("day", "week"):
        problems.append(_("Please choose one of the options offered."))
        period = "day"
    return FilterRequest(filters, unique=args.get("unique") == "1", period=period, problems=problems)


def _filter_request() -> tuple[FilterRequest, dict]:
    choices = queries.filter_choices(db.session)
    wanted = parse_filters(request.args, choices)
    return wanted, choices


def _download_filters() -> FilterRequest:
    """Downloads never guess: with a bad filter they say so (400) instead of exporting something else."""
    wanted, _choices = _filter_request()
    if wanted.problems:
        abort(400)
    return wanted


def _csv_delimiter() -> str:
    """`?separator=semicolon` is the CSV that Excel with Russian regional settings opens in columns."""
    return ";" if request.args.get("separator") == "semicolon" else ","


def _with_contacts() -> bool:
    # Organisers (and admins) see e-mail and phone; analysts read without personal contacts.
    return current_user.has_role("organiser")


def _render_dashboard(template: str, wanted: FilterRequest, choices: dict, **tables):
    status = 400 if wanted.problems else 200
    return (
        render_template(
            template,
            wanted=wanted,
            filters=wanted.filters,
            choices=choices,
            decision_statuses={**DECISION_STATUSES, **DECISIONS},
            query=request.args.to_dict(),
            **tables,
        ),
        status,
    )


@bp.get("/")
@roles_required("organiser", "analyst")
def dashboard():
    wanted, choices = _filter_request()
    tables = queries.participation_tables(db.session, wanted.filters, wanted.unique)
    return _render_dashboard("reports/participation.html", wanted, choices, tables=tables)


@bp.get("/feedback")
@roles_required("organiser", "analyst")
def feedback():
    wanted, choices = _filter_request()
    tables = queries.feedback_tables(db.session, wanted.filters, wanted.period)
    totals = queries.totals(db.session, wanted.filters)
    return _render_dashboard("reports/feedback.html", wanted, choices, tables=tables, totals=totals)


@bp.get("/comments.csv")
@roles_required("organiser", "analyst")
def comments_csv():
    wanted = _download_filters()
    stream = exports.streaming_session()
    table = queries.comment_list(stream, wanted.filters, _with_contacts(), g.lang)
    delimiter = _csv_delimiter()
    name = exports.stamped("comments" if delimiter == "," else "comments-excel", "csv")
    return exports.csv_response(table, name, closing=stream, delimiter=delimiter)


@bp.get("/comments.xlsx")
@roles_required("organiser", "analyst")
def comments_xlsx():
    wanted = _download_filters()
    table = queries.comment_list(db.session, wanted.filters, _with_contacts(), g.lang)
    file = exports.xlsx_file([table])
    return exports.file_response(file, exports.stamped("comments", "xlsx"), exports.XLSX_MIMETYPE)


@bp.get("/summary.xlsx")
@roles_required("organiser", "analyst")
def summary_xlsx():
    """A sheet per breakdown (participation, then feedback) and the full comment list."""
    wanted = _download_filters()
    tables = [
        *queries.participation_tables(db.session, wanted.filters, wanted.unique),
        *queries.feedback_tables(db.session, wanted.filters, wanted.period),
        queries.comment_list(db.session, wanted.filters, _with_contacts(), g.lang),
    ]
    file = exports.xlsx_file(tables)
    return exports.file_response(file, exports.stamped("summary", "xlsx"), exports.XLSX_MIMETYPE)


@bp.get("/comments.docx")
@roles_required("organiser", "analyst")
def comments_docx():
    wanted = _download_filters()
    if wanted.filters.document_id is None:
        flash(_("Choose a document first: the table of comments is made for one document."), "warning")
        return redirect(url_for("reports.feedback", **request.args.to_dict()), code=303)
    document = db.session.get(Document, wanted.filters.document_id)
    file = exports.comments_docx(db.session, wanted.filters, document, g.lang)
    name = exports.stamped(f"comments-table-{document.key}-v{document.version}-{g.lang}", "docx")
    return exports.file_response(file, name, exports.DOCX_MIMETYPE)


@bp.get("/participants.csv")
@roles_required("organiser", "analyst")
def participants_csv():
    wanted = _download_filters()
    stream = exports.streaming_session()
    table = queries.registration_list(stream, wanted.filters, _with_contacts(), g.lang)
    delimiter = _csv_delimiter()
    name = exports.stamped("participants" if delimiter == "," else "participants-excel", "csv")
    return exports.csv_response(table, name, closing=stream, delimiter=delimiter)


@bp.get("/participants.xlsx")
@roles_required("organiser", "analyst")
def participants_xlsx():
    """The participant list (an attendance sheet with a signature column) and its breakdowns."""
    wanted = _download_filters()
    tables = [
        queries.registration_list(db.session, wanted.filters, _with_contacts(), g.lang),
        *queries.participation_tables(db.session, wanted.filters, wanted.unique),
    ]
    file = exports.xlsx_file(tables)
    return exports.file_response(file, exports.stamped("participants", "xlsx"), exports.XLSX_MIMETYPE)


# --- publishing "what we heard" ------------------------------------------------------------------------


@bp.get("/results")
@roles_required("organiser")
def results_admin():
    documents = db.session.execute(
        select(Document, Consultation.slug)
        .join(Consultation, Consultation.id == Document.consultation_id)
        .order_by(Document.consultation_id, Document.key, Document.version)
    ).all()
    return render_template("reports/results_admin.html", documents=documents, form=ConfirmForm())


@bp.post("/documents/<int:document_id>/publish")
@roles_required("organiser")
def publish(document_id: int):
    form = ConfirmForm()
    if not form.validate():
        abort(400)
    try:
        with unit_of_work(db.session):
            notified = services.publish_results(db.session, document_id, by=current_user.user)
    except services.DocumentNotFound:
        abort(404)
    flash(_("The results page is now public."), "success")
    if notified:
        flash(
            ngettext(
                "%(num)d author will be told the decision on their comment.",
                "%(num)d authors will be told the decision on their comments.",
                notified,
            ),
            "info",
        )
    return redirect(url_for("reports.results_admin"), code=303)


@bp.post("/documents/<int:document_id>/unpublish")
@roles_required("organiser")
def unpublish(document_id: int):
    form = ConfirmForm()
    if not form.validate():
        abort(400)
    try:
        with unit_of_work(db.session):
            services.unpublish_results(db.session, document_id, by=current_user.user)
    except services.DocumentNotFound:
        abort(404)
    flash(_("The results page is no longer public."), "success")
    return redirect(url_for("reports.results_admin"), code=303)


@public_bp.get("/<consultation_slug>/<key>")
def what_we_heard(consultation_slug: str, key: str):
    raw = request.args.get("version")
    version = id_param(raw) if raw else None
    if raw and version is None:
        abort(404)
    document = services.published_document(db.session, consultation_slug, key, version)
    if document is None:
        abort(404)
    items = services.what_we_heard(db.session, document, g.lang)
    return render_template(
        "reports/what_we_heard.html",
        document=document,
        published_versions=services.published_versions(db.session, document),
        consultation=db.session.get(Consultation, document.consultation_id),
        items=items,
        kinds=COMMENT_KINDS,
    )

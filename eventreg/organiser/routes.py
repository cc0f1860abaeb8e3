"""Organiser workspace pages: thin views over eventreg.organiser.services and the registration rules."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from eventreg.accounts.auth import roles_required
from eventreg.accounts.routes import is_safe_next
from eventreg.db import unit_of_work
from eventreg.extensions import csrf, db
from eventreg.forms import ConfirmForm
from eventreg.i18n import local_time
from eventreg.models import Consultation, EventSession, Registration, utcnow
from eventreg.organiser import attendance as attendance_sheets
from eventreg.organiser import services
from eventreg.organiser.door import door_list
from eventreg.organiser.forms import (
    ConsultationForm,
    CopySessionForm,
    SessionForm,
    StatusForm,
    WalkInForm,
)
from eventreg.registration import services as registration_services
from eventreg.registration.routes import closed_message
from eventreg.reports import exports
from eventreg.vocabulary import REGIONS, REGISTRATION_STATUSES, SECTORS, SEXES

bp = Blueprint("organiser", __name__, url_prefix="/<lang:lang_code>/organiser")


def _me():
    return current_user.user


def _get_session_or_404(session_id: int) -> EventSession:
    event_session = db.session.get(EventSession, session_id)
    if event_session is None:
        abort(404)
    return event_session


def _get_registration_or_404(registration_id: int) -> Registration:
    registration = db.session.get(Registration, registration_id)
    if registration is None:
        abort(404)
    return registration


@bp.get("/")
@roles_required("organiser")
def dashboard():
    include_past = request.args.get("past") == "1"
    sessions = services.sessions_for_dashboard(db.session, now=utcnow(), include_past=include_past)
    return render_template(
        "organiser/dashboard.html",
        has_consultation=bool(services.consultations(db.session)),
        sessions=sessions,
        counts=services.registration_counts(db.session, [s.id for s in sessions]),
        include_past=include_past,
    )


# --- consultations ---------------------------------------------------------------------------------


def _get_consultation_or_404(consultation_id: int) -> Consultation:
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        abort(404)
    return consultation


def _consultation_form(obj: Consultation | None = None) -> ConsultationForm:
    if request.method == "POST":
        return ConsultationForm()
    if obj is None:
        return ConsultationForm(formdata=None)
    data = {
        "slug": obj.slug,
        "comments_open_at": services.to_local_naive(obj.comments_open_at),
        "comments_close_at": services.to_local_naive(obj.comments_close_at),
    }
    for prefix in ("title", "description"):
        for code, text in (getattr(obj, prefix) or {}).items():
            data[f"{prefix}_{code}"] = text
    return ConsultationForm(formdata=None, data=data)


def _consultation_data(form: ConsultationForm) -> services.ConsultationData:
    return services.ConsultationData(
        slug=form.slug.data,
        title=form.texts("title"),
        description=form.texts("description"),
        comments_open_at=services.from_local(form.comments_open_at.data),
        comments_close_at=services.from_local(form.comments_close_at.data),
    )


def _slug_taken_message() -> str:
    return _("Another consultation already uses this short name. Please choose a different one.")


@bp.get("/consultations")
@roles_required("organiser")
def consultations():
    return render_template(
        "organiser/consultations.html", consultations=services.consultations(db.session), now=utcnow()
    )


@bp.route("/consultations/new", methods=["GET", "POST"])
@csrf.exempt  # descriptions are long: the form checks its own token and keeps what was typed
@roles_required("organiser")
def new_consultation():
    form = _consultation_form()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate():
            try:
                with unit_of_work(db.session):
                    services.create_consultation(db.session, _consultation_data(form), by=_me())
            except services.SlugTaken:
                form.slug.errors = [_slug_taken_message()]
                status = 409
            else:
                flash(_("The consultation is saved. Now add its sessions and draft documents."), "success")
                return redirect(url_for("organiser.consultations"), code=303)
    return render_template("organiser/consultation_form.html", form=form, consultation=None), status


@bp.route("/consultations/<int:consultation_id>/edit", methods=["GET", "POST"])
@csrf.exempt  # descriptions are long: the form checks its own token and keeps what was typed
@roles_required("organiser")
def edit_consultation(consultation_id: int):
    consultation = _get_consultation_or_404(consultation_id)
    form = _consultation_form(consultation)
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate():
            try:
                with unit_of_work(db.session):
                    services.update_consultation(
                        db.session, consultation_id, _consultation_data(form), by=_me()
                    )
            except services.SlugTaken:
                form.slug.errors = [_slug_taken_message()]
                status = 409
            else:
                flash(_("The consultation is saved."), "success")
                return redirect(url_for("organiser.consultations"), code=303)
    return render_template("organiser/consultation_form.html", form=form, consultation=consultation), status


# --- sessions --------------------------------------------------------------------------------------


def _consultation_choices():
    return [
        (c.id, str(c.title.get(g.lang) or next(iter(c.title.values()), c.slug)))
        for c in services.consultations(db.session)
    ]


def _session_form(obj: EventSession | None = None, **kwargs) -> SessionForm:
    if request.method == "POST":
        return SessionForm(consultations=_consultation_choices())
    if obj is None:
        return SessionForm(
            formdata=None, consultations=_consultation_choices(), languages=["ru", "ky"], **kwargs
        )
    data = {
        "consultation_id": obj.consultation_id,
        "kind": obj.kind,
        "region": obj.region or "",
        "starts_at": services.to_local_naive(obj.starts_at),
        "ends_at": services.to_local_naive(obj.ends_at),
        "registration_deadline": services.to_local_naive(obj.registration_deadline),
        "capacity": obj.capacity,
        "waitlist_enabled": obj.waitlist_enabled,
        "hold_places": obj.hold_places,
        "hold_hours": obj.hold_hours,
        "languages": list(obj.languages or []),
        "online_url": obj.online_url,
    }
    for prefix in ("title", "description", "venue"):
        for code, text in (getattr(obj, prefix) or {}).items():
            data[f"{prefix}_{code}"] = text
    return SessionForm(formdata=None, consultations=_consultation_choices(), data=data)


def _session_data(form: SessionForm) -> services.SessionData:
    return services.SessionData(
        consultation_id=form.consultation_id.data,
        kind=form.kind.data,
        region=form.region.data or None,
        title=form.texts("title"),
        description=form.texts("description"),
        venue=form.texts("venue"),
        starts_at=services.from_local(form.starts_at.data),
        ends_at=services.from_local(form.ends_at.data),
        registration_deadline=services.from_local(form.registration_deadline.data),
        capacity=form.capacity.data,
        waitlist_enabled=form.waitlist_enabled.data,
        hold_places=form.hold_places.data,
        hold_hours=form.hold_hours.data or 4,
        languages=[code for code in form.languages.data or [] if code],
        online_url=form.online_url.data or None,
    )


@bp.route("/sessions/new", methods=["GET", "POST"])
@csrf.exempt  # descriptions are long: the form checks its own token and keeps what was typed
@roles_required("organiser")
def new_session():
    form = _session_form()
    if not form.consultation_id.choices:
        # Nothing to attach a session to yet: send the organiser to the step that comes first.
        flash(_("Create a consultation first: sessions belong to a consultation."), "warning")
        return redirect(url_for("organiser.new_consultation"), code=303)
    status = 200
    if request.method == "POST":
        if form.validate():
            with unit_of_work(db.session):
                event_session = services.create_session(db.session, _session_data(form), by=_me())
            flash(_("The session is saved as a draft. Publish it when it is ready."), "success")
            return redirect(url_for("organiser.registrations", session_id=event_session.id), code=303)
        status = 400
    return render_template("organiser/session_form.html", form=form, event_session=None), status


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@csrf.exempt  # descriptions are long: the form checks its own token and keeps what was typed
@roles_required("organiser")
def edit_session(session_id: int):
    event_session = _get_session_or_404(session_id)
    if event_session.is_cancelled:
        flash(_("This session is cancelled and can no longer be changed. You can copy it."), "warning")
        return redirect(url_for("organiser.registrations", session_id=session_id), code=303)
    form = _session_form(event_session)
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                with unit_of_work(db.session):
                    result = services.update_session(db.session, session_id, _session_data(form), by=_me())
            except services.CapacityBelowConfirmed as exc:
                form.capacity.errors = [
                    ngettext(
                        "%(num)d person already has a confirmed place; cancel registrations first to go lower.",
                        "%(num)d people already have a confirmed place; cancel registrations first to go lower.",
                        exc.confirmed,
                    )
                ]
                status = 409
            except services.SessionCancelled:
                abort(409)
            else:
                flash(_("The session is saved."), "success")
                if result.notified:
                    flash(
                        ngettext(
                            "%(num)d registered person is told about the change.",
                            "%(num)d registered people are told about the change.",
                            result.notified,
                        ),
                        "info",
                    )
                if result.promoted:
                    flash(
                        ngettext(
                            "%(num)d person moved up from the waiting list.",
                            "%(num)d people moved up from the waiting list.",
                            result.promoted,
                        ),
                        "info",
                    )
                return redirect(url_for("organiser.registrations", session_id=session_id), code=303)
        else:
            status = 400
    return render_template("organiser/session_form.html", form=form, event_session=event_session), status


@bp.post("/sessions/<int:session_id>/publish")
@roles_required("organiser")
def publish_session(session_id: int):
    _get_session_or_404(session_id)
    if not ConfirmForm().validate():
        abort(400)
    try:
        with unit_of_work(db.session):
            services.publish_session(db.session, session_id, by=_me())
    except services.SessionCancelled:
        flash(_("A cancelled session cannot be published again. Copy it instead."), "error")
    else:
        flash(_("The session is published: participants can now see it and register."), "success")
    return redirect(url_for("organiser.registrations", session_id=session_id), code=303)


@bp.route("/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@roles_required("organiser")
def cancel_session(session_id: int):
    event_session = _get_session_or_404(session_id)
    form = ConfirmForm()
    if request.method == "POST" and form.validate():
        with unit_of_work(db.session):
            told = services.cancel_session(db.session, session_id, by=_me())
        flash(
            ngettext(
                "The session is cancelled; %(num)d registered person is told.",
                "The session is cancelled; %(num)d registered people are told.",
                told,
            ),
            "success",
        )
        return redirect(url_for("organiser.registrations", session_id=session_id), code=303)
    counts = services.registration_counts(db.session, [session_id])[session_id]
    return render_template("organiser/cancel.html", event_session=event_session, form=form, counts=counts)


@bp.route("/sessions/<int:session_id>/copy", methods=["GET", "POST"])
@roles_required("organiser")
def copy_session(session_id: int):
    event_session = _get_session_or_404(session_id)
    form = CopySessionForm() if request.method == "POST" else CopySessionForm(formdata=None)
    status = 200
    if request.method == "POST":
        if form.validate():
            with unit_of_work(db.session):
                copy = services.copy_session(
                    db.session,
                    session_id,
                    region=form.region.data or None,
                    starts_at=services.from_local(form.starts_at.data),
                    by=_me(),
                )
            flash(_("A draft copy is made. Check its title, venue and times, then publish it."), "success")
            return redirect(url_for("organiser.edit_session", session_id=copy.id), code=303)
        status = 400
    return render_template("organiser/copy.html", event_session=event_session, form=form), status


# --- registrations ---------------------------------------------------------------------------------


def _filters() -> services.RegistrationFilter:
    def pick(name: str, allowed) -> str:
        value = request.args.get(name, "")
        return value if value in allowed else ""

    return services.RegistrationFilter(
        status=pick("status", REGISTRATION_STATUSES),
        sector=pick("sector", SECTORS),
        region=pick("region", REGIONS),
        sex=pick("sex", SEXES),
        q=request.args.get("q", "")[:200],
    )


@bp.get("/sessions/<int:session_id>/registrations")
@roles_required("organiser")
def registrations(session_id: int):
    event_session = _get_session_or_404(session_id)
    filters = _filters()
    rows = services.find_registrations(db.session, session_id, filters)
    return render_template(
        "organiser/registrations.html",
        event_session=event_session,
        rows=rows,
        filters=filters,
        counts=services.registration_counts(db.session, [session_id])[session_id],
        statuses=REGISTRATION_STATUSES,
        status_form=StatusForm(formdata=None),
        here=request.full_path.rstrip("?"),
    )


@bp.get("/sessions/<int:session_id>/door")
@roles_required("organiser")
def door(session_id: int):
    """The check-in list for a phone at the door: search first, one big button per confirmed person."""
    event_session = _get_session_or_404(session_id)
    q = request.args.get("q", "")[:200]
    # The desk phone keeps this language when it opens a participant's link (in the participant's language).
    session["desk_lang"] = g.lang
    return render_template(
        "organiser/door.html",
        event_session=event_session,
        rows=door_list(db.session, session_id, q),
        q=q,
        done=request.args.get("done", type=int),
        counts=services.registration_counts(db.session, [session_id])[session_id],
        local_time=local_time,
    )


def _attendance_choices() -> tuple[str, int]:
    contact = request.args.get("contact", "phone")
    if contact not in attendance_sheets.CONTACT_CHOICES:
        contact = "phone"
    blank = request.args.get("blank", 10, type=int)
    return contact, max(0, min(blank if blank is not None else 10, attendance_sheets.MAX_BLANK_ROWS))


@bp.get("/sessions/<int:session_id>/attendance")
@roles_required("organiser")
def attendance(session_id: int):
    """The attendance sheet as a page that prints as it is (A4 landscape); the DOCX is the same rows."""
    event_session = _get_session_or_404(session_id)
    contact, blank = _attendance_choices()
    sheet = attendance_sheets.attendance_sheet(db.session, session_id, contact=contact, blank_rows=blank)
    return render_template(
        "organiser/attendance.html",
        event_session=event_session,
        sheet=sheet,
        contact=contact,
        blank=blank,
        contact_choices=attendance_sheets.CONTACT_CHOICES,
        page_counter_css=attendance_sheets.page_counter_css(),
    )


@bp.get("/sessions/<int:session_id>/attendance.docx")
@roles_required("organiser")
def attendance_docx(session_id: int):
    event_session = _get_session_or_404(session_id)
    contact, blank = _attendance_choices()
    sheet = attendance_sheets.attendance_sheet(db.session, session_id, contact=contact, blank_rows=blank)
    file = attendance_sheets.attendance_docx(sheet)
    name = exports.stamped(f"attendance-{event_session.slug}-{g.lang}", "docx")
    return exports.file_response(file, name, exports.DOCX_MIMETYPE)


def _back(registration: Registration) -> str:
    target = request.form.get("back", "")
    if is_safe_next(target):
        return target
    return url_for("organiser.registrations", session_id=registration.session_id)


@bp.post("/registrations/<int:registration_id>/status")
@roles_required("organiser")
def change_status(registration_id: int):
    registration = _get_registration_or_404(registration_id)
    form = StatusForm()
    if not form.validate():
        flash(_("Please choose one of the options offered."), "error")
        return redirect(_back(registration), code=303)
    try:
        with unit_of_work(db.session):
            _registration, promoted = registration_services.set_status_by_organiser(
                db.session, registration_id, form.status.data, by=_me(), over_capacity=form.over_capacity.data
            )
    except registration_services.NoPlaceLeft:
        flash(
            _(
                "No place is left. Tick “over capacity” to confirm this person anyway, or cancel someone first."
            ),
            "error",
        )
    except registration_services.StatusChangeNotAllowed as exc:
        if exc.new == "waitlisted" and exc.old == "cancelled":
            flash(_("There are free places, so this person can be confirmed instead of waiting."), "error")
        else:
            flash(
                _("A confirmed person cannot be moved to the waiting list. Cancel the registration instead."),
                "error",
            )
    except registration_services.AlreadyRegistered:
        flash(_("This person has registered again since; the newer registration is kept."), "error")
    else:
        flash(_("%(name)s: the status is changed.", name=registration.full_name), "success")
        if promoted:
            flash(
                ngettext(
                    "%(num)d person moved up from the waiting list.",
                    "%(num)d people moved up from the waiting list.",
                    len(promoted),
                ),
                "info",
            )
    return redirect(_back(registration), code=303)


@bp.post("/registrations/<int:registration_id>/check-in")
@roles_required("organiser")
def check_in(registration_id: int):
    registration = _get_registration_or_404(registration_id)
    if not ConfirmForm().validate():
        abort(400)
    undo = request.form.get("undo") == "1"
    now = utcnow()
    try:
        with unit_of_work(db.session):
            checked = registration_services.check_in(
                db.session, registration_id, by=_me(), undo=undo, now=now
            )
    except registration_services.NotConfirmed:
        flash(_("Only a confirmed participant can be checked in. Confirm the registration first."), "error")
    else:
        if undo:
            flash(_("%(name)s: check-in taken back.", name=registration.full_name), "info")
        elif checked.checked_in_at is not None and checked.checked_in_at != now:
            # A second scan or tap keeps the first time and says so, so nobody is let in twice unknowingly.
            flash(
                _(
                    "%(name)s was already checked in at %(time)s.",
                    name=registration.full_name,
                    time=local_time(checked.checked_in_at),
                ),
                "warning",
            )
        else:
            flash(_("%(name)s is checked in.", name=registration.full_name), "success")
    return redirect(_back(registration), code=303)


@bp.route("/sessions/<int:session_id>/walk-in", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token and keeps what was typed at a busy door
@roles_required("organiser")
def walk_in(session_id: int):
    event_session = _get_session_or_404(session_id)
    form = (
        WalkInForm()
        if request.method == "POST"
        else WalkInForm(formdata=None, interpretation_language=g.lang)
    )
    status = 200
    problem = None
    if request.method == "POST":
        if form.validate():
            # Walk-ins' mail (if they gave an e-mail) goes out in the language they follow the session in.
            details = form.details(locale=form.interpretation_language.data)
            try:
                with unit_of_work(db.session):
                    registration = registration_services.register_walk_in(
                        db.session, session_id, details, by=_me()
                    )
            except registration_services.RegistrationClosed as exc:
                problem, status = closed_message(exc.reason), 409
            except registration_services.AlreadyRegistered:
                problem = _(
                    "This e-mail is already registered for the session: find the person in the list and check them in."
                )
                status = 409
            else:
                flash(_("%(name)s is registered and checked in.", name=registration.full_name), "success")
                back = url_for("organiser.door", session_id=session_id, done=registration.id)
                return redirect(f"{back}#reg-{registration.id}", code=303)
        else:
            status = 400
    return render_template(
        "organiser/walk_in.html", event_session=event_session, form=form, problem=problem
    ), status

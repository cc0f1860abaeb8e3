"""Public registration pages: the session list, a session with its form, and the personal link."""

from __future__ import annotations

from contextlib import suppress

import segno
from flask import (
    Blueprint,
    Response,
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
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select

from eventreg.extensions import csrf, db, limiter
from eventreg.forms import ConfirmForm
from eventreg.mail.ics import registration_calendar
from eventreg.mail.notify import personal_link
from eventreg.models import EventSession, Registration, RegistrationStatus, SessionStatus, utcnow
from eventreg.registration import services
from eventreg.registration.forms import ParticipantForm, RegistrationForm, RequestLinkForm
from eventreg.vocabulary import REGIONS, SESSION_KINDS

bp = Blueprint("registration", __name__, url_prefix="/<lang:lang_code>")


def _confirmed_counts(session_ids: list[int]) -> dict[int, int]:
    if not session_ids:
        return {}
    rows = db.session.execute(
        select(Registration.session_id, func.count(Registration.id))
        .where(Registration.session_id.in_(session_ids), Registration.status == RegistrationStatus.CONFIRMED)
        .group_by(Registration.session_id)
    )
    return dict(rows.all())


@bp.get("/sessions")
@bp.get("/")  # registered first, so url_for builds the short form
def sessions():
    region = request.args.get("region", "")
    kind = request.args.get("kind", "")
    now = utcnow()
    stmt = (
        select(EventSession)
        .where(
            EventSession.status.in_([SessionStatus.PUBLISHED, SessionStatus.CANCELLED]),
            EventSession.ends_at >= now,
        )
        .order_by(EventSession.starts_at, EventSession.id)
    )
    if region in REGIONS:
        stmt = stmt.where(EventSession.region == region)
    if kind in SESSION_KINDS:
        stmt = stmt.where(EventSession.kind == kind)
    items = list(db.session.scalars(stmt))
    counts = _confirmed_counts([s.id for s in items])
    return render_template(
        "registration/sessions.html",
        sessions=items,
        places_left={s.id: max(s.capacity - counts.get(s.id, 0), 0) for s in items},
        region=region,
        kind=kind,
        now=now,
    )


def _get_session_or_404(slug: str) -> EventSession:
    event_session = db.session.scalars(select(EventSession).where(EventSession.slug == slug)).first()
    if event_session is None or event_session.status == SessionStatus.DRAFT:
        abort(404)
    return event_session


def _details(form: ParticipantForm) -> services.ParticipantDetails:
    return services.ParticipantDetails(
        full_name=form.full_name.data,
        email=form.email.data,
        phone=form.phone.data,
        organisation=form.organisation.data,
        position=form.position.data,
        sector=form.sector.data,
        region=form.region.data,
        sex=form.sex.data,
        interpretation_language=form.interpretation_language.data,
        accessibility_needs=form.accessibility_needs.data,
        locale=g.lang,
    )


def closed_message(reason: str) -> str:
    messages = {
        "deadline": _("Registration for this session is closed: the deadline has passed."),
        "cancelled": _("This session has been cancelled, so registration is closed."),
        "not_published": _("Registration for this session is not open."),
        "full": _("This session is full and has no waiting list, so registration is closed."),
    }
    return messages.get(reason, messages["not_published"])


def _render_session(event_session: EventSession, form: RegistrationForm, status: int = 200, **extra):
    now = utcnow()
    closed_reason = None
    if event_session.status == SessionStatus.CANCELLED:
        closed_reason = "cancelled"
    elif not event_session.registration_open(now):
        closed_reason = "deadline"
    left = services.places_left(db.session, event_session)
    if closed_reason is None and left == 0 and not event_session.waitlist_enabled:
        closed_reason = "full"
    return (
        render_template(
            "registration/session.html",
            event_session=event_session,
            form=form,
            places_left=left,
            closed_reason=closed_reason,
            closed_message=closed_message(closed_reason) if closed_reason else None,
            link_form=extra.pop("link_form", None) or RequestLinkForm(),
            **extra,
        ),
        status,
    )


@bp.get("/sessions/<slug>")
def session_detail(slug: str):
    event_session = _get_session_or_404(slug)
    return _render_session(event_session, RegistrationForm(formdata=None, interpretation_language=g.lang))


@bp.post("/sessions/<slug>")
@csrf.exempt  # the form checks its own token, so an expired page comes back with everything typed
@limiter.limit("30 per minute")
def register(slug: str):
    event_session = _get_session_or_404(slug)
    form = RegistrationForm()
    if not form.validate():
        return _render_session(event_session, form, status=400)
    try:
        registration = services.register_participant(db.session, event_session.id, _details(form))
    except services.RegistrationClosed as exc:
        return _render_session(event_session, form, status=409, refused=closed_message(exc.reason))
    except services.AlreadyRegistered:
        link_form = RequestLinkForm(formdata=None, email=form.email.data)
        return _render_session(event_session, form, status=409, already_registered=True, link_form=link_form)
    return redirect(url_for("registration.registration_page", token=registration.token, welcome=1), code=303)


@bp.post("/sessions/<slug>/link")
@limiter.limit("5 per minute")
def request_link(slug: str):
    event_session = _get_session_or_404(slug)
    form = RequestLinkForm()
    if form.validate():
        services.request_link_again(db.session, event_session.id, form.email.data)
        # The same answer whether or not the address is registered: nobody learns who registered.
        flash(
            _("If this address is registered for the session, we have sent its personal link to it."),
            "info",
        )
        return redirect(url_for("registration.session_detail", slug=slug), code=303)
    return _render_session(event_session, RegistrationForm(formdata=None), status=400, link_form=form)


def _get_registration_or_404(token: str) -> Registration:
    registration = services.find_by_token(db.session, token)
    if registration is None:
        abort(404)
    return registration


def personal_qr_svg(url: str, title: str = "") -> Markup:
    """The personal link as an inline SVG QR code: drawn on the server, a few kilobytes, no script.

    scale=1 with a viewBox and no width/height: the CSS sizes it, and the path stays short.
    Error level M (segno raises it when the version has room) survives a scratched phone screen.
    """
    qr = segno.make_qr(url, error="m")
    svg = qr.svg_inline(
        scale=1, border=4, omitsize=True, svgclass="qr-code", lineclass=None, title=title or None
    )
    return Markup(svg)  # noqa: S704  (segno escapes the title; the rest is path data, the URL is not in it)


def _at_the_desk() -> bool:
    # Anonymous visitors have no has_role, so the log-in check comes first.
    return bool(current_user.is_authenticated and current_user.has_role("organiser"))


@bp.get("/r/<token>")
def registration_page(token: str):
    registration = _get_registration_or_404(token)
    desk_lang = session.get("desk_lang") if _at_the_desk() else None
    if desk_lang and desk_lang != g.lang and desk_lang in current_app.config["LANGUAGES"]:
        # The QR link is in the participant's language; the desk phone stays in the organiser's.
        return redirect(url_for("registration.registration_page", token=token, lang_code=desk_lang), code=303)
    # From BASE_URL like the e-mails, never from the Host header: the QR code may be printed or shown to
    # someone else's phone, and a forged Host must not end up in it.
    personal_url = personal_link(registration)
    live = registration.status != RegistrationStatus.CANCELLED and not registration.session.is_cancelled
    desk = _at_the_desk()
    return render_template(
        "registration/registration.html",
        registration=registration,
        event_session=registration.session,
        position=services.waitlist_position(db.session, registration),
        welcome=request.args.get("welcome") == "1",
        personal_url=personal_url,
        # Only a confirmed place can be checked in: a waitlisted person is told what happens instead.
        qr_svg=personal_qr_svg(personal_url, _("QR code of your personal link"))
        if live and registration.status == RegistrationStatus.CONFIRMED
        else None,
        started=registration.session.starts_at <= utcnow(),
        # A calendar entry promises a seat: only for confirmed places (the waiting-list mail has none either).
        show_calendar=live and registration.status == RegistrationStatus.CONFIRMED,
        desk=desk,
        desk_form=ConfirmForm(formdata=None) if desk else None,
    )


@bp.get("/r/<token>/calendar.ics")
def registration_calendar_file(token: str):
    """The session's calendar file, exactly as the confirmation e-mail carries it (same UID, language)."""
    registration = _get_registration_or_404(token)
    if registration.status != RegistrationStatus.CONFIRMED:
        abort(404)
    with force_locale(registration.locale):
        link = personal_link(registration)
        # The same message id as eventreg.mail.notify, so the description reads as in the e-mail's file.
        description = "\n".join([_("Your personal link (see, change or cancel your registration):"), link])
        # A cancelled session gives the cancelling file, which removes the event from the calendar.
        content = registration_calendar(
            registration, link=link, description=description, cancelled=registration.session.is_cancelled
        )
    response = Response(content, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="session.ics"'
    # It carries the personal link: no shared cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    return response


def _refuse_after_start(registration: Registration):
    """After the start the list is the record of the session: changes go through the organisers."""
    if registration.session.starts_at <= utcnow():
        flash(
            _(
                "The session has started: your registration can no longer be changed or cancelled here. Please ask the organisers."
            ),
            "warning",
        )
        return redirect(url_for("registration.registration_page", token=registration.token), code=303)
    return None


def _edit_form(registration: Registration) -> ParticipantForm:
    return ParticipantForm(
        formdata=None,
        full_name=registration.full_name,
        email=registration.email,
        phone=registration.phone,
        organisation=registration.organisation,
        position=registration.position,
        sector=registration.sector,
        region=registration.region,
        sex=registration.sex,
        interpretation_language=registration.interpretation_language,
        accessibility_needs=registration.accessibility_needs,
    )


@bp.route("/r/<token>/edit", methods=["GET", "POST"])
@csrf.exempt  # checked by the form itself, keeping what was typed
def edit_registration(token: str):
    registration = _get_registration_or_404(token)
    if registration.status == RegistrationStatus.CANCELLED:
        flash(_("This registration is cancelled and can no longer be changed."), "warning")
        return redirect(url_for("registration.registration_page", token=token), code=303)
    if (refused := _refuse_after_start(registration)) is not None:
        return refused
    form = ParticipantForm() if request.method == "POST" else _edit_form(registration)
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                services.update_details(db.session, registration.id, _details(form))
            except services.SessionStarted:
                return _refuse_after_start(registration)
            except services.AlreadyRegistered:
                form.email.errors = [_("Another registration for this session already uses this e-mail.")]
                status = 409
            else:
                flash(_("Your details have been saved."), "success")
                return redirect(url_for("registration.registration_page", token=token), code=303)
        else:
            status = 400
    return (
        render_template("registration/edit.html", registration=registration, form=form),
        status,
    )


@bp.route("/r/<token>/cancel", methods=["GET", "POST"])
def cancel_registration(token: str):
    registration = _get_registration_or_404(token)
    if (
        registration.status != RegistrationStatus.CANCELLED
        and (refused := _refuse_after_start(registration)) is not None
    ):
        return refused
    form = ConfirmForm()
    if request.method == "POST" and form.validate():
        try:
            with suppress(services.AlreadyCancelled):  # a second click says the same thing
                services.cancel_registration(db.session, registration.id)
        except services.SessionStarted:
            return _refuse_after_start(registration)
        flash(_("Your registration is cancelled. Thank you for letting us know."), "success")
        return redirect(url_for("registration.registration_page", token=token), code=303)
    return render_template("registration/cancel.html", registration=registration, form=form)

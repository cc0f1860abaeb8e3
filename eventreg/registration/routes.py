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
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from eventreg.db import unit_of_work
from eventreg.extensions import _client_address, csrf, db, limiter
from eventreg.forms import ConfirmForm
from eventreg.mail.ics import registration_calendar
from eventreg.models import (
    Consultation,
    Document,
    EventSession,
    Registration,
    RegistrationStatus,
    SessionStatus,
    utcnow,
)
from eventreg.registration import availability, services
from eventreg.registration.availability import ClosedReason
from eventreg.registration.forms import ParticipantForm, RegistrationForm, RequestLinkForm
from eventreg.registration.links import personal_link
from eventreg.vocabulary import REGIONS, SESSION_KINDS

bp = Blueprint("registration", __name__, url_prefix="/<lang:lang_code>")


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
        .options(selectinload(EventSession.consultation))
        .order_by(EventSession.starts_at, EventSession.id)
    )
    if region in REGIONS:
        stmt = stmt.where(EventSession.region == region)
    if kind in SESSION_KINDS:
        stmt = stmt.where(EventSession.kind == kind)
    items = list(db.session.scalars(stmt))
    places = availability.for_sessions(db.session, items, now)
    open_now = _open_for_comments(now)
    named = {s.consultation_id for s in items} | {c.id for c, _docs in open_now}
    return render_template(
        "registration/sessions.html",
        sessions=items,
        open_now=open_now,
        one_consultation=items[0].consultation if len(named) == 1 and items else None,
        places_left={s.id: places[s.id].places_left for s in items},
        region=region,
        kind=kind,
        now=now,
    )


def _open_for_comments(now) -> list[tuple[Consultation, list[Document]]]:
    """Consultations taking comments right now, each with its current documents, for the home page."""
    consultations = [
        c for c in db.session.scalars(select(Consultation).order_by(Consultation.id)) if c.comments_open(now)
    ]
    if not consultations:
        return []
    documents = db.session.scalars(
        select(Document)
        .where(Document.consultation_id.in_([c.id for c in consultations]), Document.is_current.is_(True))
        .order_by(Document.id)
    ).all()
    return [(c, [d for d in documents if d.consultation_id == c.id]) for c in consultations]


def _get_session_or_404(slug: str) -> EventSession:
    event_session = db.session.scalars(select(EventSession).where(EventSession.slug == slug)).first()
    if event_session is None or event_session.status == SessionStatus.DRAFT:
        abort(404)
    return event_session


def closed_message(reason: ClosedReason | str) -> str:
    return ClosedReason(reason).label


def _render_session(event_session: EventSession, form: RegistrationForm, status: int = 200, **extra):
    form.offer_languages(event_session.languages)
    places = availability.for_session(db.session, event_session, utcnow())
    closed_reason = places.closed_reason
    return (
        render_template(
            "registration/session.html",
            event_session=event_session,
            form=form,
            places_left=places.places_left,
            closed_reason=closed_reason.value if closed_reason else None,
            closed_message=closed_reason.label if closed_reason else None,
            link_form=extra.pop("link_form", None) or RequestLinkForm(),
            **extra,
        ),
        status,
    )


@bp.get("/sessions/<slug>")
def session_detail(slug: str):
    event_session = _get_session_or_404(slug)
    # Preselect the reader's language only where the session is held in it: an English reader of a
    # session in Russian and Kyrgyz chooses for themselves.
    offered = event_session.languages or []
    preselect = g.lang if not offered or g.lang in offered else None
    return _render_session(event_session, RegistrationForm(formdata=None, interpretation_language=preselect))


def _address_and_session() -> str:
    return f"{_client_address()}|{(request.view_args or {}).get('slug', '')}"


@bp.post("/sessions/<slug>")
@csrf.exempt  # the form checks its own token, so an expired page comes back with everything typed
@limiter.limit("30 per minute")
# One connection may register a whole office's staff, but not take every place of a session.
@limiter.limit(
    lambda: current_app.config["REGISTRATIONS_PER_ADDRESS_AND_SESSION"], key_func=_address_and_session
)
def register(slug: str):
    event_session = _get_session_or_404(slug)
    form = RegistrationForm()
    if not form.validate():
        return _render_session(event_session, form, status=400)
    # Read before the unit of work begins: it expires what was loaded, and reloading the row just to learn
    # its id would cost a statement under the write lock.
    event_session_id, details = event_session.id, form.details(g.lang)
    try:
        with unit_of_work(db.session):
            registration = services.register_participant(db.session, event_session_id, details)
    except services.RegistrationClosed as exc:
        return _render_session(event_session, form, status=409, refused=closed_message(exc.reason))
    except services.AlreadyRegistered:
        # Answered as the lost-link form answers, and the link is sent again: a 409 or a page of its own
        # would let anyone check whether an address registered. Where places are held, a new registration
        # is answered with "check your e-mail", so the same page answers here.
        if event_session.hold_places:
            with unit_of_work(db.session):
                services.request_link_again(db.session, event_session.id, form.email.data)
            return redirect(url_for("registration.check_email", slug=slug, waiting=0), code=303)
        return _send_link_again(event_session, form.email.data)
    if event_session.hold_places:
        # The personal link goes only to the e-mail address: whoever cannot read that mailbox (a script
        # inventing people) never gets the link that confirms a held place or a later promotion.
        waiting = registration.status == RegistrationStatus.WAITLISTED
        return redirect(url_for("registration.check_email", slug=slug, waiting=int(waiting)), code=303)
    return redirect(url_for("registration.registration_page", token=registration.token, welcome=1), code=303)


@bp.get("/sessions/<slug>/check-email")
def check_email(slug: str):
    event_session = _get_session_or_404(slug)
    return render_template(
        "registration/check_email.html",
        event_session=event_session,
        waiting=request.args.get("waiting") == "1",
    )


def _send_link_again(event_session: EventSession, email: str):
    with unit_of_work(db.session):
        services.request_link_again(db.session, event_session.id, email)
    # The same answer whether or not the address is registered: nobody learns who registered.
    flash(_("If this address is registered for the session, we have sent its personal link to it."), "info")
    return redirect(url_for("registration.session_detail", slug=event_session.slug), code=303)


@bp.post("/sessions/<slug>/link")
@limiter.limit("5 per minute")
def request_link(slug: str):
    event_session = _get_session_or_404(slug)
    form = RequestLinkForm()
    if form.validate():
        return _send_link_again(event_session, form.email.data)
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
        confirm_form=ConfirmForm(formdata=None) if registration.status == RegistrationStatus.HELD else None,
    )


@bp.post("/r/<token>/confirm")
def confirm_place(token: str):
    """The held place becomes the participant's: they opened the link from their e-mail and pressed the button."""
    registration = _get_registration_or_404(token)
    if not ConfirmForm().validate():
        flash(_("The page had expired. Please press the button again."), "warning")
        return redirect(url_for("registration.registration_page", token=token), code=303)
    with unit_of_work(db.session):
        registration = services.confirm_place(db.session, registration.id)
    if registration.status == RegistrationStatus.CONFIRMED:
        flash(_("Your place is confirmed. See you at the session!"), "success")
    else:
        flash(
            _("The place was not confirmed in time and has gone to the next person. You can register again."),
            "warning",
        )
    return redirect(url_for("registration.registration_page", token=token), code=303)


@bp.get("/r/<token>/calendar.ics")
def registration_calendar_file(token: str):
    """The session's calendar file, exactly as the confirmation e-mail carries it (same UID, language)."""
    registration = _get_registration_or_404(token)
    if registration.status != RegistrationStatus.CONFIRMED:
        abort(404)
    # The same file as the e-mail's attachment; a cancelled session gives the file that removes the event.
    content = registration_calendar(
        registration, link=personal_link(registration), cancelled=registration.session.is_cancelled
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
                with unit_of_work(db.session):
                    services.update_details(db.session, registration.id, form.details(g.lang))
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
            with (
                suppress(services.AlreadyCancelled),
                unit_of_work(db.session),
            ):  # a second click: the same answer
                services.cancel_registration(db.session, registration.id)
        except services.SessionStarted:
            return _refuse_after_start(registration)
        flash(_("Your registration is cancelled. Thank you for letting us know."), "success")
        return redirect(url_for("registration.registration_page", token=token), code=303)
    return render_template("registration/cancel.html", registration=registration, form=form)

"""Organiser pages for mail: the outbox, retrying a failed message, writing to a session's participants."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from eventreg.accounts.auth import roles_required
from eventreg.db import unit_of_work
from eventreg.extensions import csrf, db
from eventreg.forms import ConfirmForm, id_param
from eventreg.i18n import local_datetime, localized
from eventreg.mail import sender, services
from eventreg.mail.forms import WriteToSessionForm
from eventreg.mail.validation import Undeliverable
from eventreg.models import OutboxStatus

log = logging.getLogger(__name__)

bp = Blueprint("mail", __name__, url_prefix="/<lang:lang_code>/organiser/mail")

PAGE_SIZE = 100

KIND_LABELS = {
    "registration_confirmed": _l("Registration confirmed"),
    "registration_waitlisted": _l("Waiting list"),
    "registration_promoted": _l("Promoted from the waiting list"),
    "registration_held": _l("Place held: confirm from the e-mail"),
    "registration_hold_expired": _l("Held place released"),
    "registration_changed": _l("Registration changed"),
    "registration_cancelled": _l("Registration cancelled"),
    "registration_link": _l("Personal link sent again"),
    "session_changed": _l("Session changed"),
    "session_cancelled": _l("Session cancelled"),
    "session_reminder": _l("Reminder"),
    "organiser_message": _l("Message from organisers"),
    "comment_decided": _l("Decision on a comment"),
}
STATUS_LABELS = OutboxStatus.labels()


@bp.after_app_request
def deliver_in_development(response):
    """`make run` has no worker: in development without a mail server, log queued mail right away.

    Production and tests never do this; there the worker (`flask --app app mail work`) delivers.
    """
    config = current_app.config
    wanted = config.get("DEVELOPMENT") and not config.get("MAIL_SERVER") and not config.get("TESTING")
    if wanted and request.method == "POST":
        session = current_app.extensions["eventreg.db"]["sessionmaker"]()
        try:
            sender.send_due(session)
        except Exception:
            log.exception("logging queued mail failed; `flask --app app mail send` will retry")
        finally:
            session.close()
    return response


def _status_summary(counts: dict[str, int]) -> dict[str, str]:
    return {
        "pending": ngettext("%(num)d message waiting", "%(num)d messages waiting", counts["pending"]),
        "sending": ngettext("%(num)d message being sent", "%(num)d messages being sent", counts["sending"]),
        "sent": ngettext("%(num)d message sent", "%(num)d messages sent", counts["sent"]),
        "failed": ngettext("%(num)d message failed", "%(num)d messages failed", counts["failed"]),
    }


@bp.get("/")
@roles_required("organiser")
def outbox():
    status = request.args.get("status", "")
    if status not in services.STATUSES:
        status = ""
    page = request.args.get("page", "1")
    page = min(max(id_param(page) or 1, 1), 10_000)
    messages = services.list_messages(
        db.session, status or None, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
    )
    counts = services.status_counts(db.session)
    return render_template(
        "mail_admin/outbox.html",
        messages=messages[:PAGE_SIZE],
        has_more=len(messages) > PAGE_SIZE,
        page=page,
        status=status,
        counts=counts,
        summary=_status_summary(counts),
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
        retry_form=ConfirmForm(),
    )


@bp.post("/<int:message_id>/retry")
@roles_required("organiser")
def retry(message_id: int):
    form = ConfirmForm()
    if not form.validate():
        flash(_("The form had expired. Please try again."), "warning")
        return redirect(url_for("mail.outbox", status="failed"), code=303)
    try:
        with unit_of_work(db.session):
            services.retry_message(db.session, message_id, by=current_user.user)
    except services.NotRetryable:
        flash(_("Only a failed message can be sent again."), "warning")
        return redirect(url_for("mail.outbox"), code=303)
    flash(_("The message is back in the queue and will be sent shortly."), "success")
    return redirect(url_for("mail.outbox", status="failed"), code=303)


def _session_choices() -> list[tuple[str, str]]:
    return [
        (str(s.id), f"{localized(s.title)} · {local_datetime(s.starts_at)}")
        for s in services.sessions_to_write_to(db.session)
    ]


@bp.route("/write", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token, so an expired page comes back with the message typed
@roles_required("organiser")
def write():
    if request.method == "GET":
        form = WriteToSessionForm(formdata=None, session_id=request.args.get("session", ""))
        form.set_sessions(_session_choices())
        return render_template("mail_admin/write.html", form=form)
    form = WriteToSessionForm()
    form.set_sessions(_session_choices())
    if not form.validate():
        return render_template("mail_admin/write.html", form=form), 400
    try:
        with unit_of_work(db.session):
            queued, unreachable = services.write_to_session(
                db.session,
                int(form.session_id.data),
                subject=form.subject.data,
                body=form.body.data,
                include_waitlisted=form.include_waitlisted.data,
                by=current_user.user,
            )
    except Undeliverable as exc:
        # Nothing was queued (one transaction): tell the organiser why rather than leave it to fail later.
        log.warning("organiser message refused at queue time: %s", exc.reason)
        form.subject.errors = [
            _(
                "The message was not queued: one of the recipients' addresses cannot receive mail "
                "through our mail server. Ask them for another address, or remove their registration."
            )
            if exc.field == "recipient"
            else _("The message was not queued: please write the subject on one line.")
        ]
        return render_template("mail_admin/write.html", form=form), 400
    except services.NoRecipients:
        form.session_id.errors = [
            _("Nobody is registered for this session yet, so there is no one to write to.")
        ]
        return render_template("mail_admin/write.html", form=form), 409
    flash(
        ngettext(
            "Your message is queued for %(num)d participant.",
            "Your message is queued for %(num)d participants.",
            queued,
        ),
        "success",
    )
    if unreachable:
        flash(
            ngettext(
                "%(num)d participant has no e-mail address and could not be reached.",
                "%(num)d participants have no e-mail address and could not be reached.",
                unreachable,
            ),
            "warning",
        )
    return redirect(url_for("mail.outbox", status="pending"), code=303)

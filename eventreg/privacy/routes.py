"""The participant erases their own data from their personal page: a confirmation step, then a POST."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from eventreg.db import unit_of_work
from eventreg.extensions import db
from eventreg.forms import ConfirmForm
from eventreg.privacy import services
from eventreg.registration import services as registration_services

bp = Blueprint("privacy", __name__, url_prefix="/<lang:lang_code>")


@bp.route("/r/<token>/erase", methods=["GET", "POST"])
def erase(token: str):
    registration = registration_services.find_by_token(db.session, token)
    if registration is None or registration.erased_at is not None:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            with unit_of_work(db.session):
                services.erase_registration(db.session, registration.id)
        except services.AlreadyErased:
            abort(404)
        flash(_("Your name and contact details are erased. Your personal link no longer works."), "success")
        return redirect(url_for("registration.sessions"), code=303)
    return render_template("privacy/erase.html", registration=registration, form=form)

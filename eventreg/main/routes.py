"""The site root, the privacy notice and a health check."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from sqlalchemy import text

from eventreg.extensions import db
from eventreg.i18n import best_language

bp = Blueprint("main", __name__)


@bp.get("/")
def root():
    # Vary on Accept-Language so a shared cache never sends one person's language to another.
    response = redirect(url_for("registration.sessions", lang_code=best_language()), code=302)
    response.vary.add("Accept-Language")
    return response


@bp.get("/<lang:lang_code>/privacy")
def privacy():
    return render_template("main/privacy.html")


@bp.get("/healthz")
def health():
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}

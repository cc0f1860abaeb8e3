"""The site root, the privacy notice and a health check."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from sqlalchemy import text

from eventreg import ratelimit
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
    from eventreg.privacy.notice import PRIVACY_NOTICE_VERSION

    return render_template("main/privacy.html", notice_version=PRIVACY_NOTICE_VERSION)


@bp.get("/healthz")
def health():
    """200 while requests are served. A rate-limit store that does not answer is reported, not fatal:
    limits then count per process, and a load balancer must not take every instance out for it."""
    db.session.execute(text("SELECT 1"))
    store = ratelimit.store_health()
    status = "degraded" if store == "degraded" else "ok"
    return {"status": status, "database": "ok", "rate_limit_store": store}

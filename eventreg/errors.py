"""Error pages in the reader's language; no stack trace ever reaches a visitor."""

from __future__ import annotations

import logging

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from eventreg.i18n import best_language, language_from_path

log = logging.getLogger(__name__)


def _render(code: int, error: Exception | None = None):
    if not g.get("lang"):
        g.lang = language_from_path(request.path) or best_language()
    try:
        from eventreg.extensions import db

        db.session.rollback()
    except Exception:  # the database itself may be what failed; the page must still render
        log.debug("rollback before error page failed", exc_info=True)
    return render_template("errors/error.html", code=code, error=error), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _render(400, error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        return _render(error.code, error)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        # Log the failure without request data: forms carry personal details.
        log.exception("unhandled error on %s %s", request.method, request.url_rule)
        return _render(500, InternalServerError())

"""Error pages in the reader's language; no stack trace ever reaches a visitor."""

from __future__ import annotations

import logging

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException, InternalServerError

from eventreg.db import DatabaseBusy
from eventreg.i18n import best_language, language_from_path
from eventreg.logs import log_error

log = logging.getLogger(__name__)


# Never shown back: secrets and the token that protects the form.
_NOT_KEPT = {"csrf_token", "password", "password_confirm", "new_password"}


def _typed_text() -> list[str]:
    """What a person typed into a refused POST, so the error page can give it back to copy."""
    if request.method != "POST" or request.content_length is None or request.content_length > 1_000_000:
        return []
    try:
        form = request.form
    except Exception:  # an unreadable body has nothing to give back
        return []
    return [
        value for key, value in form.items(multi=True) if key not in _NOT_KEPT and len(value.strip()) >= 20
    ]


def _resend_fields() -> list[tuple[str, str]]:
    """Every field of a POST the database was too busy to store, to send again with a fresh token."""
    if request.method != "POST" or request.content_length is None or request.content_length > 1_000_000:
        return []
    try:
        return [(k, v) for k, v in request.form.items(multi=True) if k not in _NOT_KEPT]
    except Exception:  # an unreadable body has nothing to give back
        return []


def _render(code: int, error: Exception | None = None):
    if request.path.startswith("/api/"):
        return _api_problem(code)
    if not g.get("lang"):
        g.lang = language_from_path(request.path) or best_language()
    try:
        from eventreg.extensions import db

        db.session.rollback()
    except Exception:  # the database itself may be what failed; the page must still render
        log.debug("rollback before error page failed", exc_info=True)
    kept = _typed_text() if code in (400, 409, 429, 503) else []
    resend = _resend_fields() if code == 503 else []
    return render_template("errors/error.html", code=code, error=error, kept=kept, resend=resend), code


def _api_problem(code: int):
    """The API answers every error, even one raised before its views (no route, CSRF), as JSON."""
    from eventreg.api.common import choose_language
    from eventreg.api.problems import problem

    if not g.get("lang"):
        g.lang = choose_language()
    try:
        from eventreg.extensions import db

        db.session.rollback()
    except Exception:  # the database itself may be what failed; the answer must still be given
        log.debug("rollback before problem response failed", exc_info=True)
    return problem(code), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _render(400, error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        return _render(error.code, error)

    @app.errorhandler(DatabaseBusy)
    def database_busy(error: DatabaseBusy):
        # Many people acted at once and the retries ran out: nothing was stored, nothing is lost.
        log.warning("database busy after retries on %s %s", request.method, request.url_rule)
        response, code = _render(503, error)
        return response, code, {"Retry-After": "5"}

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def value_out_of_range(error: Exception):
        # The database refused a value (a number too large, a date out of range): the input was bad.
        log.warning(
            "value refused by the database on %s %s: %s",
            request.method,
            request.url_rule,
            type(error).__name__,
        )
        return _render(400, error)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        # Log the failure without request data: forms carry personal details.
        # Nor the exception's message: a database error repeats the row it refused (names, e-mails).
        log_error(log, error, "unhandled error on %s %s", request.method, request.url_rule)
        return _render(500, InternalServerError())

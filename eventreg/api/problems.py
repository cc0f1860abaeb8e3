"""Errors as RFC 9457 problem details (application/problem+json), in the reader's language."""

from __future__ import annotations

from flask import Response, json
from flask_babel import lazy_gettext as _l

PROBLEM_TYPE = "application/problem+json"

# One short title per status: the same words whichever part of the API refused.
TITLES = {
    400: _l("The request is not valid."),
    401: _l("An API key is required."),
    403: _l("This API key may not do this."),
    404: _l("Not found."),
    405: _l("This method is not allowed here."),
    409: _l("The request conflicts with the current state."),
    413: _l("The request is too large."),
    415: _l("Send the request body as JSON (Content-Type: application/json)."),
    422: _l("Some fields are not valid."),
    429: _l("Too many requests. Please wait a minute and try again."),
    500: _l("Something went wrong on our side."),
    503: _l("Many people are sending at this moment. Nothing was saved: please send again."),
}


class ApiProblem(Exception):
    """Raised by API views; turned into a problem response by the blueprint's error handler."""

    def __init__(self, status: int, detail: str | None = None, *, code: str | None = None, **extra):
        super().__init__(detail or "")
        self.status = status
        self.detail = detail
        self.code = code
        self.extra = extra


def problem(status: int, detail=None, *, code: str | None = None, **extra) -> Response:
    body = {
        # about:blank says "the status says it all"; a code names the refusal for programs.
        "type": f"urn:eventreg:problem:{code}" if code else "about:blank",
        "title": str(TITLES.get(status, TITLES[400 if status < 500 else 500])),
        "status": status,
    }
    if detail:
        body["detail"] = str(detail)
    body.update(extra)
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_TYPE)
    response.headers["Content-Language"] = _current_language()
    if status == 503:
        response.headers["Retry-After"] = "5"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="eventreg"'
    return response


def _current_language() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "")

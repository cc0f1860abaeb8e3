"""What every API view shares: the language, cursor pagination, JSON input and plain-value output."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime

from flask import current_app, g, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from eventreg.api.problems import ApiProblem
from eventreg.forms import id_param
from eventreg.i18n import best_language, localized

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def choose_language() -> str:
    """`?lang=` if it names a configured language, else the Accept-Language header, else the default."""
    wanted = request.args.get("lang", "")
    if wanted in current_app.config["LANGUAGES"]:
        return wanted
    return best_language()


def text(texts: dict | None) -> str:
    """A stored per-language text in the request's language (falling back like the pages do)."""
    return localized(texts, g.lang).text


def coded(code: str | None, enum_or_vocabulary) -> dict | None:
    """A code with its label in the reader's language: programs read `code`, people read `label`."""
    if code is None:
        return None
    labels = enum_or_vocabulary.labels() if hasattr(enum_or_vocabulary, "labels") else enum_or_vocabulary
    return {"code": code, "label": str(labels.get(code, code))}


def timestamp(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


# --- cursor pagination ---------------------------------------------------------------------------------


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(raw: str | None) -> int | None:
    """The id after which a page starts; a cursor we did not make is a 400, never a 500."""
    if not raw:
        return None
    try:
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    prefix, _sep, number = decoded.partition(":")
    last_id = id_param(number) if prefix == "v1" else None
    if last_id is None:
        raise ApiProblem(400, _("The cursor is not valid. Use the next link of the previous page."))
    return last_id


def page_limit() -> int:
    raw = request.args.get("limit", "")
    if not raw:
        return DEFAULT_LIMIT
    limit = id_param(raw)
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise ApiProblem(400, _("The limit must be a whole number from 1 to %(max)d.", max=MAX_LIMIT))
    return limit


def paginate(session, stmt, model, serialise, limit: int | None = None) -> dict:
    """One page of `stmt` ordered by id, with the cursor of the next page (None on the last one)."""
    limit = limit or page_limit()
    after = decode_cursor(request.args.get("cursor"))
    if after is not None:
        stmt = stmt.where(model.id > after)
    rows = list(session.scalars(stmt.order_by(model.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    body = {"items": [serialise(row) for row in rows], "next_cursor": None, "next": None}
    if more:
        cursor = encode_cursor(rows[-1].id)
        # The query is kept (filters, language), but never allowed to override the route or url_for's options.
        query = {
            key: value
            for key, value in request.args.to_dict().items()
            if key not in request.view_args and key != "endpoint" and not key.startswith("_")
        }
        args = {**query, **request.view_args, "cursor": cursor}
        body["next_cursor"] = cursor
        body["next"] = url_for(request.endpoint, **args)
    return body


# --- JSON input ----------------------------------------------------------------------------------------


def json_formdata() -> MultiDict:
    """A JSON object as form data for the same WTForms forms the pages use.

    Only a request declared as application/json is accepted: browsers cannot send that across sites
    without CORS (which this app does not allow), and that is why these writes need no CSRF token.
    """
    if request.mimetype != "application/json":
        raise ApiProblem(415)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiProblem(400, _("The body must be a JSON object."))
    pairs = []
    errors = []
    for key, value in data.items():
        key = _valid_unicode(key)
        if isinstance(value, str):
            value = _valid_unicode(value)
        if isinstance(value, bool):
            value = "y" if value else ""
        elif value is None:
            value = ""
        elif isinstance(value, int | float):
            value = str(value)
        elif not isinstance(value, str):
            errors.append({"field": key, "detail": _("Please send text, a number or true/false.")})
            continue
        pairs.append((key, value))
    if errors:
        raise ApiProblem(422, errors=errors)
    return MultiDict(pairs)


# json.loads joins a valid pair into one character, so any surrogate left in a string is half a pair.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _valid_unicode(text: str) -> str:
    """JSON may escape half a surrogate pair ("\\ud800"), which no database or UTF-8 answer can hold.

    Such halves become U+FFFD, as undecodable bytes in a form post do, so the forms judge the text.
    """
    return _LONE_SURROGATE.sub("\ufffd", text)


def form_errors(form) -> list[dict]:
    return [
        {"field": name, "detail": str(message)}
        for name, messages in form.errors.items()
        for message in messages
        if name != "csrf_token"
    ]

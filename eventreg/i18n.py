"""Languages in the URL, per-language stored texts, and dates people read correctly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, request, url_for
from flask_babel import format_date, format_time, get_locale
from markupsafe import Markup, escape
from werkzeug.routing import BaseConverter, IntegerConverter


def languages() -> dict[str, str]:
    return current_app.config["LANGUAGES"]


def best_language() -> str:
    """The language for a request that does not name one: the browser's choice, else the default."""
    match = request.accept_languages.best_match(list(languages()))
    return match or current_app.config["BABEL_DEFAULT_LOCALE"]


def language_from_path(path: str) -> str | None:
    first = path.lstrip("/").split("/", 1)[0]
    return first if first in languages() else None


def select_locale() -> str:
    lang = g.get("lang") or language_from_path(request.path)
    return lang or best_language()


@dataclass(frozen=True)
class LocalText:
    text: str
    lang: str | None  # the language the text is actually in
    wanted: str

    @property
    def is_fallback(self) -> bool:
        return self.lang is not None and self.lang != self.wanted

    def __str__(self) -> str:
        return self.text

    def __html__(self) -> str:
        return str(escape(self.text))


def localized(texts: dict | None, lang: str | None = None) -> LocalText:
    """The text in `lang`, else in the first configured language that has it."""
    wanted = lang or str(get_locale())
    texts = texts or {}
    for candidate in [wanted, *languages()]:
        value = texts.get(candidate)
        if value:
            return LocalText(value, candidate, wanted)
    for candidate, value in texts.items():
        if value:
            return LocalText(value, candidate, wanted)
    return LocalText("", None, wanted)


# Long dates nobody can misread. CLDR's Kyrgyz default puts the year first; people write "12-октябрь, 2021-ж.".
DATE_PATTERNS = {
    "ru": "EEEE, d MMMM y 'г'.",
    "ky": "EEEE, d-MMMM, y-'ж'.",
    "en": "EEEE, d MMMM y",
}


def local_date(value: datetime) -> str:
    return format_date(to_local(value), DATE_PATTERNS.get(str(get_locale()), "full"))


def local_time(value: datetime) -> str:
    return format_time(to_local(value), "HH:mm")


def to_local(value: datetime) -> datetime:
    return value.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))


def local_datetime(value: datetime, _format: str = "long") -> str:
    """A date and time in Asia/Bishkek, e.g. "пятница, 18 декабря 2026 г., 10:00"."""
    return f"{local_date(value)}, {local_time(value)}"


def session_when(start: datetime, end: datetime) -> str:
    """When a session runs, in Bishkek time, with the zone said out loud."""
    from flask_babel import gettext

    if to_local(start).date() == to_local(end).date():
        span = f"{local_date(start)}, {local_time(start)}–{local_time(end)}"
    else:
        span = f"{local_datetime(start)} – {local_datetime(end)}"
    return gettext("%(span)s (Bishkek time, UTC+6)", span=span)


def switch_language_url(lang: str) -> str:
    """The current page in another language."""
    if request.endpoint and request.url_rule is not None and "lang_code" in request.url_rule.arguments:
        args = dict(request.view_args or {})
        args["lang_code"] = lang
        # Keep the query (filters, search) but never let it override the route or url_for's own options.
        reserved = set(args) | set(request.url_rule.arguments) | {"endpoint", "lang_code"}
        query = {
            key: values
            for key, values in request.args.to_dict(flat=False).items()
            if key not in reserved and not key.startswith("_")
        }
        return url_for(request.endpoint, **args, **query)
    return url_for("registration.sessions", lang_code=lang)


def fallback_note(text: LocalText) -> Markup:
    """A small note when a text is shown in another language than the reader's."""
    from flask_babel import gettext

    if not text.is_fallback:
        return Markup("")
    name = languages().get(text.lang, text.lang)
    note = gettext("Not available in your language; shown in %(language)s.", language=name)
    return Markup('<span class="fallback-note" lang="{}">{}</span>').format(str(get_locale()), note)


class BoundedIntConverter(IntegerConverter):
    def __init__(self, url_map, fixed_digits=0, min=None, max=2**63 - 1, signed=False):  # noqa: A002
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app: Flask) -> None:
    codes = "|".join(sorted(app.config["LANGUAGES"], key=len, reverse=True))

    class LanguageConverter(BaseConverter):
        """Matches only configured language codes, so /de/... is a plain 404."""

        regex = f"(?:{codes})"

    app.url_map.converters["lang"] = LanguageConverter
    # An id longer than a database column can hold is simply not found (instead of an overflow).
    app.url_map.converters["int"] = BoundedIntConverter

    @app.url_value_preprocessor
    def pull_lang(_endpoint, values):
        if values and "lang_code" in values:
            g.lang = values.pop("lang_code")

    @app.url_defaults
    def add_lang(endpoint, values):
        if "lang_code" in values or not endpoint:
            return
        if endpoint in app.view_functions and app.url_map.is_endpoint_expecting(endpoint, "lang_code"):
            values["lang_code"] = g.get("lang") or select_locale()

    app.jinja_env.globals.update(
        has_endpoint=lambda name: name in app.view_functions,
        localized=localized,
        fallback_note=fallback_note,
        switch_language_url=switch_language_url,
        languages=languages,
    )
    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.globals["session_when"] = session_when

"""Languages in the URL, per-language stored texts, and dates people read correctly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as time_of_day
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel import dates as babel_dates
from babel.support import NullTranslations
from flask import Flask, current_app, g, request, url_for
from flask_babel import Domain, get_babel, get_locale
from jinja2 import pass_eval_context
from markupsafe import Markup, escape
from werkzeug.routing import BaseConverter, IntegerConverter

# --- translations, looked up once per locale per request ---------------------------------------------
#
# Flask-Babel resolves the request context, the locale and the catalogue on every gettext call (a page
# makes about a hundred). Here the catalogue is looked up once and kept in Flask-Babel's own per-request
# namespace, together with the locale object it was looked up for: force_locale and refresh() replace
# that object, so an e-mail rendered in the recipient's language inside a request never gets the
# page's catalogue, and the page never gets the e-mail's.

_NULL_TRANSLATIONS = NullTranslations()


def _babel_namespace():
    try:
        app_globals = g._get_current_object()
    except RuntimeError:  # outside an application context
        return None
    namespace = app_globals.__dict__.get("_flask_babel")
    if namespace is None:
        from types import SimpleNamespace

        namespace = app_globals._flask_babel = SimpleNamespace()
    return namespace


def _catalogue(namespace) -> tuple[str, NullTranslations]:
    locale = namespace.__dict__.get("babel_locale")
    cached = namespace.__dict__.get("eventreg_catalogue")
    if cached is not None and locale is not None and cached[0] is locale:
        return cached[1], cached[2]
    locale = get_locale()  # runs the locale selector once, and caches the object in the namespace
    translations = Domain.get_translations(get_babel().instance.domain_instance)
    lang = str(locale)
    namespace.eventreg_catalogue = (locale, lang, translations)
    return lang, translations


def current_translations() -> NullTranslations:
    namespace = _babel_namespace()
    if namespace is None:
        return _NULL_TRANSLATIONS
    return _catalogue(namespace)[1]


def current_lang() -> str:
    """The language being rendered: the request's, or the one force_locale chose (e-mails)."""
    namespace = _babel_namespace()
    if namespace is None:
        return str(get_locale())
    return _catalogue(namespace)[0]


class RequestCachedDomain(Domain):
    """Flask-Babel's domain with the per-request catalogue above: every gettext, lazy or not, uses it."""

    def get_translations(self):
        return current_translations()


def gettext(string: str, **variables) -> str:
    text = current_translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return current_translations().ungettext(singular, plural, num) % variables


def _as_template_text(eval_ctx, text: str) -> str:
    # The catalogue is the translators' trusted text, as in Jinja's own gettext: marked safe where the
    # template autoescapes (HTML), so that only the variables formatted into it are escaped.
    return Markup(text) if eval_ctx.autoescape else text  # noqa: S704


@pass_eval_context
def _template_gettext(eval_ctx, string: str, /, **variables) -> str:
    # As Jinja's "newstyle" gettext: escaped where the template autoescapes (HTML), plain in text mails.
    text = _as_template_text(eval_ctx, current_translations().ugettext(string))
    if not variables and "%" not in text:
        return text  # what formatting would give, without formatting
    return text % variables


@pass_eval_context
def _template_ngettext(eval_ctx, singular: str, plural: str, num: int, /, **variables) -> str:
    variables.setdefault("num", num)
    return _as_template_text(eval_ctx, current_translations().ungettext(singular, plural, num)) % variables


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

    def marked(self, pattern: str | None = None, names: dict[str, str] | None = None) -> str:
        """For documents and spreadsheets: the text, with its language named after it when it is not the
        reader's ("Первая часть (Русский)"), since a file has no room for the pages' note.

        Streamed exports run without a request, so they hand in the pattern and the language names they
        translated up front (reports.queries.Labels); otherwise both are looked up here.
        """
        if not self.is_fallback:
            return self.text
        pattern = pattern if pattern is not None else gettext("%(what)s (%(language)s)")
        names = names if names is not None else languages()
        return pattern % {"what": self.text, "language": names.get(self.lang, self.lang)}


def localized(texts: dict | None, lang: str | None = None) -> LocalText:
    """The text in `lang`, else in the first configured language that has it."""
    wanted = lang or current_lang()
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


# A page shows the same few dates many times (every session card): each is formatted once per language.
@lru_cache(maxsize=4096)
def _format_date(day: date, lang: str) -> str:
    return babel_dates.format_date(day, DATE_PATTERNS.get(lang, "full"), locale=Locale.parse(lang))


@lru_cache(maxsize=4096)
def _format_time(hour: int, minute: int, lang: str) -> str:
    return babel_dates.format_time(time_of_day(hour, minute), "HH:mm", locale=Locale.parse(lang))


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_date(value: datetime) -> str:
    return _format_date(to_local(value).date(), current_lang())


def local_time(value: datetime) -> str:
    local = to_local(value)
    return _format_time(local.hour, local.minute, current_lang())


def to_local(value: datetime) -> datetime:
    return value.astimezone(_zone(current_app.config["BABEL_DEFAULT_TIMEZONE"]))


def local_datetime(value: datetime, _format: str = "long") -> str:
    """A date and time in Asia/Bishkek, e.g. "пятница, 18 декабря 2026 г., 10:00"."""
    return f"{local_date(value)}, {local_time(value)}"


def session_when(start: datetime, end: datetime) -> str:
    """When a session runs, in Bishkek time, with the zone said out loud."""
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
    if not text.is_fallback:
        return Markup("")
    name = languages().get(text.lang, text.lang)
    note = gettext("Not available in your language; shown in %(language)s.", language=name)
    return Markup('<span class="fallback-note" lang="{}">{}</span>').format(current_lang(), note)


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
    # Every gettext goes through the per-request catalogue: Python code through Flask-Babel's domain,
    # templates directly (Jinja's own i18n wrappers resolve the context twice per call).
    app.extensions["babel"].instance.domain_instance = RequestCachedDomain()
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext)
    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.globals["session_when"] = session_when

"""Form pieces shared by every area: the base form, and messages that read well in three languages."""

from __future__ import annotations

import re
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import EmailField, RadioField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Email, InputRequired, Length, Optional, ValidationError

from eventreg.vocabulary import SEXES

# Messages that do not say which field they are about; the summary at the top adds the field's label.
GENERIC_MESSAGES = (
    _l("Please fill in this field."),
    _l("Please choose one option."),
    _l("Please choose one of the options offered."),
)

EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
_ID_DIGITS = 18  # below 2**63, the largest id a database column holds


def id_param(raw: str | None) -> int | None:
    """An id from a query string or form, or None: '²', '-1' or a 30-digit number are not ids."""
    raw = (raw or "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= _ID_DIGITS:
        return int(raw)
    return None


def coerce_id(value) -> int:
    """`coerce` for fields that carry ids: anything that is not an id is a validation error."""
    parsed = id_param(str(value))
    if parsed is None:
        raise ValueError("not an id")
    return parsed


MAX_ID = 10**_ID_DIGITS - 1


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _WTFormsMessages:
    """WTForms' own messages in the request's language, each catalogue read from disk once per process.

    Flask-WTF reads WTForms' catalogue from disk again on every request that binds a form (it was one of
    the larger costs of a form POST in bench/PROFILE.md); the catalogues never change while the app runs.
    """

    _catalogues: dict[str, object] = {}

    def _catalogue(self):
        from babel import support
        from flask import has_request_context
        from flask_babel import get_locale
        from wtforms.i18n import messages_path

        locale = get_locale() if has_request_context() else None
        if locale is None:
            return None
        key = str(locale)
        catalogue = self._catalogues.get(key)
        if catalogue is None:
            catalogue = self._catalogues[key] = support.Translations.load(
                messages_path(), [locale], domain="wtforms"
            )
        return catalogue

    def gettext(self, string):
        catalogue = self._catalogue()
        return string if catalogue is None else catalogue.ugettext(string)

    def ngettext(self, singular, plural, n):
        catalogue = self._catalogue()
        if catalogue is None:
            return singular if n == 1 else plural
        return catalogue.ungettext(singular, plural, n)


_wtforms_messages = _WTFormsMessages()


class BaseForm(FlaskForm):
    """A FlaskForm whose CSRF failure reads as 'submit again', never as a lost form."""

    class Meta:
        csrf = True

        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return None
            return _wtforms_messages

    @property
    def csrf_failed(self) -> bool:
        return "csrf_token" in self.errors

    def problems(self) -> list[tuple[str, str]]:
        """The summary at the top: (field id, message) for each error. A message that does not name its field
        ("Please fill in this field.") is prefixed by the field's label, so the list says where to look."""
        generic = {str(message) for message in GENERIC_MESSAGES}
        found = []
        for field in self:
            if field.name == "csrf_token":
                continue
            anchor = f"{field.id}-0" if field.type == "RadioField" else field.id
            for error in field.errors:
                text = str(error)
                found.append((anchor, f"{field.label.text}: {text}" if text in generic else text))
        return found

    def validate(self, extra_validators=None) -> bool:
        for field in self:
            # A file sent where text belongs (a crafted multipart POST) is not text: refuse it, never len() it.
            if isinstance(field.data, FileStorage) and not isinstance(field, FileField):
                field.data = None
                field.raw_data = []
                self._sent_a_file = [*getattr(self, "_sent_a_file", []), field.name]
            # Browsers send line breaks as CRLF; count (and store) them as one character, as typed.
            if isinstance(field.data, str) and "\r" in field.data:
                field.data = field.data.replace("\r\n", "\n").replace("\r", "\n")
        valid = super().validate(extra_validators)
        for name in getattr(self, "_sent_a_file", []):
            self[name].errors = [_l("Please type text here, not a file.")]
            valid = False
        # Control characters (NUL above all) are never typed on purpose and PostgreSQL refuses NUL.
        for field in self:
            if isinstance(field.data, str) and _CONTROL.search(field.data):
                field.errors = [*field.errors, _l("Please remove the invisible control characters.")]
                valid = False
            # A year like 0001 or 9999 is a typo, and would overflow time-zone arithmetic.
            if isinstance(field.data, date) and not (EARLIEST_YEAR <= field.data.year <= LATEST_YEAR):
                field.errors = [
                    *field.errors,
                    _l(
                        "Please enter a date between %(first)s and %(last)s.",
                        first=EARLIEST_YEAR,
                        last=LATEST_YEAR,
                    ),
                ]
                valid = False
        return valid


def required(message=None) -> DataRequired:
    """Say what to do ("Enter your full name") where the field allows; the generic text is the fallback."""
    return DataRequired(message=message or GENERIC_MESSAGES[0])


def max_length(n: int) -> Length:
    return Length(max=n, message=_l("Please use at most %(max)d characters.", max=n))


def one_of(allowed) -> AnyOf:
    """Only the listed codes are accepted (a tampered select gets a clear message, not an error)."""
    return AnyOf(list(allowed), message=GENERIC_MESSAGES[2])


def strip(value):
    """Leading and trailing spaces are never meant (phones paste them into e-mail fields)."""
    return value.strip() if isinstance(value, str) else value


class DeliverableEmail:
    """An address our mail server can deliver to: a non-Latin part before the @ needs SMTPUTF8.

    Checked when the address is typed, so mail is never queued that can never leave (MAIL_SMTPUTF8=1 says
    the relay supports it).
    """

    def __call__(self, form, field) -> None:
        from eventreg.mail.validation import address_problem

        if field.data and address_problem(field.data, smtputf8=bool(current_app.config.get("MAIL_SMTPUTF8"))):
            raise ValidationError(
                _l(
                    "Our mail server cannot deliver to an address with non-Latin letters before the @. "
                    "Please give another address."
                )
            )


def one_line(value):
    """A filter for single-line fields (subjects, names): a line break typed or sent there becomes a space."""
    return " ".join(value.splitlines()) if isinstance(value, str) else value


def choices(vocabulary: dict, blank: bool = True) -> list[SelectChoice]:
    options = [SelectChoice("", _l("— choose —"))] if blank else []
    return options + [SelectChoice(code, label) for code, label in vocabulary.items()]


# Fields every "who is speaking" form asks the same way (registration, comments, walk-ins).
def email_field(label, *, optional: bool = False) -> EmailField:
    return EmailField(
        label,
        filters=[strip],
        validators=[
            Optional() if optional else required(_l("Enter an e-mail address like name@example.kg.")),
            max_length(254),
            Email(message=_l("Enter an e-mail address like name@example.kg.")),
            DeliverableEmail(),
        ],
    )


def code_select(label, vocabulary: dict, message=None) -> SelectField:
    """A drop-down of one vocabulary (sector, region …) that accepts only its codes."""
    return SelectField(
        label,
        choices=choices(vocabulary),
        validators=[required(message), one_of(vocabulary)],
        validate_choice=False,
    )


def sex_field() -> RadioField:
    return RadioField(
        _l("Sex"),
        choices=choices(SEXES, blank=False),
        validators=[InputRequired(message=_l("Choose your sex.")), one_of(SEXES)],
        validate_choice=False,
    )


class ConfirmForm(BaseForm):
    """An empty form for a POST that needs only a CSRF token (cancel, publish, …)."""

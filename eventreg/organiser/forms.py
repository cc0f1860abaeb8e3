from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import URL, Email, InputRequired, NumberRange, Optional, Regexp

from eventreg.config import LANGUAGES as CONFIGURED_LANGUAGES
from eventreg.forms import BaseForm, DeliverableEmail, choices, max_length, one_of, required, strip
from eventreg.i18n import languages
from eventreg.registration.forms import ParticipantForm
from eventreg.vocabulary import REGIONS, REGISTRATION_STATUSES, SESSION_KINDS

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
# The per-language text fields follow the configured languages, so a new locale needs no code change.
_LANG_CODES = tuple(CONFIGURED_LANGUAGES)


def _per_language(prefix: str, label, field_class, **kwargs):
    """One field per configured language: title_ru, title_ky, title_en (a new locale adds one)."""
    return {
        f"{prefix}_{code}": field_class(
            _l("%(what)s (%(language)s)", what=label, language=CONFIGURED_LANGUAGES[code]),
            filters=[strip],
            validators=[Optional(), max_length(kwargs.get("limit", 300))],
        )
        for code in _LANG_CODES
    }


class SessionForm(BaseForm):
    consultation_id = SelectField(_l("Consultation"), coerce=int, validate_choice=True)
    kind = SelectField(_l("Kind of session"), validators=[required(), one_of(SESSION_KINDS)])
    region = SelectField(_l("Region"), validators=[Optional(), one_of(["", *REGIONS])], validate_choice=False)
    locals().update(_per_language("title", _l("Title"), StringField, limit=300))
    locals().update(_per_language("description", _l("Description"), TextAreaField, limit=5000))
    locals().update(_per_language("venue", _l("Venue"), StringField, limit=300))
    starts_at = DateTimeLocalField(
        _l("Starts (Bishkek time)"),
        format=DATETIME_FORMAT,
        validators=[InputRequired(message=_l("Please give a date and time."))],
    )
    ends_at = DateTimeLocalField(
        _l("Ends (Bishkek time)"),
        format=DATETIME_FORMAT,
        validators=[InputRequired(message=_l("Please give a date and time."))],
    )
    registration_deadline = DateTimeLocalField(
        _l("Registration closes (Bishkek time, optional)"), format=DATETIME_FORMAT, validators=[Optional()]
    )
    capacity = IntegerField(
        _l("Places"),
        validators=[
            InputRequired(message=_l("Please fill in this field.")),
            NumberRange(min=1, max=100000, message=_l("Please give a number from 1 to 100000.")),
        ],
    )
    waitlist_enabled = BooleanField(_l("Waiting list when full"), default=True)
    hold_places = BooleanField(
        _l(
            "Hold each place until the person confirms it from their e-mail (suggested for sessions with few places)"
        ),
        default=False,
    )
    hold_hours = IntegerField(
        _l("Hours a held place waits for confirmation"),
        default=4,
        validators=[
            Optional(),
            NumberRange(min=1, max=72, message=_l("Please give a number from 1 to 72.")),
        ],
    )
    languages = SelectMultipleField(_l("Languages offered"), validate_choice=False)
    online_url = URLField(
        _l("Link for online sessions (optional)"),
        filters=[strip],
        validators=[
            Optional(),
            max_length(500),
            URL(message=_l("Please enter a full link starting with https://.")),
        ],
    )

    def __init__(self, *args, consultations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.consultation_id.choices = list(consultations)
        self.kind.choices = choices(SESSION_KINDS)
        self.region.choices = choices(REGIONS)
        self.languages.choices = list(languages().items())

    def texts(self, prefix: str) -> dict[str, str]:
        return {code: self[f"{prefix}_{code}"].data for code in _LANG_CODES if self[f"{prefix}_{code}"].data}

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not self.texts("title"):
            self.title_ru.errors = [
                *self.title_ru.errors,
                _l("Please give a title in at least one language."),
            ]
            valid = False
        if self.starts_at.data and self.ends_at.data and self.ends_at.data <= self.starts_at.data:
            self.ends_at.errors = [*self.ends_at.errors, _l("The end must be after the start.")]
            valid = False
        if (
            self.registration_deadline.data
            and self.starts_at.data
            and self.registration_deadline.data > self.starts_at.data
        ):
            self.registration_deadline.errors = [
                *self.registration_deadline.errors,
                _l("Registration must close before the session starts."),
            ]
            valid = False
        unknown = set(self.languages.data or []) - set(languages())
        if unknown:
            self.languages.errors = [*self.languages.errors, _l("Please choose one of the options offered.")]
            valid = False
        return valid


# The slug is part of public addresses (/ru/consultations/<slug>, results links in e-mails).
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


class ConsultationForm(BaseForm):
    slug = StringField(
        _l("Short name for web addresses"),
        filters=[strip],
        validators=[
            required(),
            max_length(80),
            Regexp(
                SLUG_PATTERN,
                message=_l(
                    "Please use only small Latin letters, digits and single hyphens, like gender-strategy-2030."
                ),
            ),
        ],
    )
    locals().update(_per_language("title", _l("Title"), StringField, limit=300))
    locals().update(_per_language("description", _l("Description"), TextAreaField, limit=5000))
    comments_open_at = DateTimeLocalField(
        _l("Comments open (Bishkek time)"), format=DATETIME_FORMAT, validators=[Optional()]
    )
    comments_close_at = DateTimeLocalField(
        _l("Comments close (Bishkek time)"), format=DATETIME_FORMAT, validators=[Optional()]
    )

    def texts(self, prefix: str) -> dict[str, str]:
        return {code: self[f"{prefix}_{code}"].data for code in _LANG_CODES if self[f"{prefix}_{code}"].data}

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not self.texts("title"):
            first = self[f"title_{_LANG_CODES[0]}"]
            first.errors = [*first.errors, _l("Please give a title in at least one language.")]
            valid = False
        opens, closes = self.comments_open_at, self.comments_close_at
        if bool(opens.data) != bool(closes.data) and not opens.errors and not closes.errors:
            # Comments are open only between the two times; one alone would keep them shut for ever.
            missing = closes if opens.data else opens
            missing.errors = [
                *missing.errors,
                _l("Please give both the opening and the closing time, or leave both empty."),
            ]
            valid = False
        if opens.data and closes.data and closes.data <= opens.data:
            closes.errors = [*closes.errors, _l("Comments must close after they open.")]
            valid = False
        return valid


class CopySessionForm(BaseForm):
    region = SelectField(
        _l("Region of the copy"), validators=[Optional(), one_of(["", *REGIONS])], validate_choice=False
    )
    starts_at = DateTimeLocalField(
        _l("Starts (Bishkek time, optional: else the same time)"),
        format=DATETIME_FORMAT,
        validators=[Optional()],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.region.choices = choices(REGIONS)


class StatusForm(BaseForm):
    status = SelectField(_l("New status"), validators=[required(), one_of(REGISTRATION_STATUSES)])
    over_capacity = BooleanField(_l("Confirm even though the session is full (over capacity)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = choices(REGISTRATION_STATUSES, blank=False)


class WalkInForm(ParticipantForm):
    """A person who turned up at the door: the e-mail is optional (many come without one to hand)."""

    email = EmailField(
        _l("E-mail (optional)"),
        filters=[strip],
        validators=[
            Optional(),
            max_length(254),
            Email(message=_l("Please enter a valid e-mail address, like name@example.kg.")),
            DeliverableEmail(),
        ],
    )

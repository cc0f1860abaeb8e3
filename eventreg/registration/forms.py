from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional, Regexp

from eventreg.forms import (
    BaseForm,
    choices,
    code_select,
    email_field,
    max_length,
    one_of,
    required,
    sex_field,
    strip,
)
from eventreg.i18n import languages
from eventreg.registration.services import ParticipantDetails
from eventreg.vocabulary import REGIONS, SECTORS


class ParticipantForm(BaseForm):
    full_name = StringField(
        _l("Full name"), validators=[required(_l("Enter your full name.")), max_length(200)], filters=[strip]
    )
    email = email_field(_l("E-mail"))
    phone = StringField(
        _l("Phone (optional)"),
        filters=[strip],
        validators=[
            Optional(),
            max_length(40),
            Regexp(
                r"^\+?[0-9 ()\-]{5,40}$",
                message=_l(
                    "Please enter a phone number in digits (spaces, +, - and brackets are fine), like +996 555 123 456."
                ),
            ),
        ],
    )
    organisation = StringField(
        _l("Organisation"),
        validators=[required(_l("Enter the name of your organisation.")), max_length(300)],
        filters=[strip],
    )
    position = StringField(
        _l("Position"), validators=[required(_l("Enter your position.")), max_length(200)], filters=[strip]
    )
    sector = code_select(_l("Sector"), SECTORS, _l("Choose your sector."))
    region = code_select(_l("Region"), REGIONS, _l("Choose your region."))
    sex = sex_field()
    interpretation_language = SelectField(
        _l("Language you want to follow the session in"), validators=[required()], validate_choice=False
    )
    accessibility_needs = TextAreaField(
        _l("Accessibility needs (optional)"), validators=[Optional(), max_length(2000)]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Languages come from the app's configuration, so they are set per form, not per class.
        self.interpretation_language.choices = choices(languages())
        self.interpretation_language.validators = [
            required(_l("Choose the language you want to follow the session in.")),
            one_of(languages()),
        ]

    def offer_languages(self, codes: list[str] | None) -> None:
        """Offer only the languages the session is held or interpreted in (all of them when none is set)."""
        offered = {code: name for code, name in languages().items() if not codes or code in codes}
        self.interpretation_language.choices = choices(offered)

    def details(self, locale: str) -> ParticipantDetails:
        """What the person told us, for the services; `locale` is the language their mail goes out in."""
        return ParticipantDetails(
            full_name=self.full_name.data,
            email=self.email.data or "",
            phone=self.phone.data,
            organisation=self.organisation.data,
            position=self.position.data,
            sector=self.sector.data,
            region=self.region.data,
            sex=self.sex.data,
            interpretation_language=self.interpretation_language.data,
            accessibility_needs=self.accessibility_needs.data,
            locale=locale,
        )


class RegistrationForm(ParticipantForm):
    consent = BooleanField(
        _l("I agree to the processing of my personal data as described in the privacy notice."),
        validators=[InputRequired(message=_l("Please give your consent so that we can register you."))],
    )


class RequestLinkForm(BaseForm):
    email = email_field(_l("E-mail you registered with"))

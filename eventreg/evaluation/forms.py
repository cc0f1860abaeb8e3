from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from eventreg.forms import BaseForm, choices, max_length, one_of, strip
from eventreg.vocabulary import SECTORS, SEXES

# A word at every point of each scale, so that a 4 means the same thing to everyone who answers.
SCALES = {
    "expectations": [
        SelectChoice("1", _l("Not at all")),
        SelectChoice("2", _l("Mostly not")),
        SelectChoice("3", _l("Partly")),
        SelectChoice("4", _l("Mostly")),
        SelectChoice("5", _l("Fully")),
    ],
    "usefulness": [
        SelectChoice("1", _l("Not useful")),
        SelectChoice("2", _l("Of little use")),
        SelectChoice("3", _l("Fairly useful")),
        SelectChoice("4", _l("Very useful")),
        SelectChoice("5", _l("Extremely useful")),
    ],
    "organisation": [
        SelectChoice("1", _l("Very poor")),
        SelectChoice("2", _l("Poor")),
        SelectChoice("3", _l("Fair")),
        SelectChoice("4", _l("Good")),
        SelectChoice("5", _l("Excellent")),
    ],
}
AGAIN_CHOICES = [
    SelectChoice("yes", _l("Yes")),
    SelectChoice("no", _l("No")),
    SelectChoice("not_sure", _l("Not sure")),
]


def _choose() -> InputRequired:
    return InputRequired(message=_l("Please choose one option."))


def _scale(label, name: str) -> RadioField:
    return RadioField(
        label,
        choices=SCALES[name],
        validators=[_choose(), one_of([c.value for c in SCALES[name]])],
        validate_choice=False,
    )


class EvaluationForm(BaseForm):
    expectations = _scale(_l("Did the session meet your expectations?"), "expectations")
    usefulness = _scale(_l("How useful was the content for your work?"), "usefulness")
    organisation = _scale(_l("How well was the session organised?"), "organisation")
    again = RadioField(
        _l("Would you take part in such a session again?"),
        choices=AGAIN_CHOICES,
        validators=[_choose(), one_of([c.value for c in AGAIN_CHOICES])],
        validate_choice=False,
    )
    most_useful = TextAreaField(
        _l("What was most useful?"), validators=[Optional(), max_length(2000)], filters=[strip]
    )
    to_improve = TextAreaField(
        _l("What should we improve?"), validators=[Optional(), max_length(2000)], filters=[strip]
    )


class DoorEvaluationForm(EvaluationForm):
    """The short link at the door: no registration behind it, so sex and sector are asked (optional)."""

    sex = SelectField(
        _l("Sex"),
        choices=choices(SEXES),
        validators=[Optional(), one_of(["", *SEXES])],
        validate_choice=False,
    )
    sector = SelectField(
        _l("Sector"),
        choices=choices(SECTORS),
        validators=[Optional(), one_of(["", *SECTORS])],
        validate_choice=False,
    )


class OpenEvaluationForm(BaseForm):
    include_confirmed = BooleanField(_l("Also invite confirmed people who were not checked in"))

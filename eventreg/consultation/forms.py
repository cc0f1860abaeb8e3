"""The comment form (per item or on the whole document) and the organiser's upload form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from eventreg.consultation.services import BODY_MAX, WORDING_MAX, CommentAuthor
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
from eventreg.vocabulary import COMMENT_KINDS, REGIONS, SECTORS

# The author fields carried from one comment to the next in the same sitting.
AUTHOR_FIELDS = ("name", "organisation", "sector", "region", "sex", "email", "show_name")


class CommentForm(BaseForm):
    # The version the form was shown with: a clause renumbered, changed or removed meanwhile is found again.
    version = HiddenField()
    kind = RadioField(
        _l("What kind of comment is it?"),
        choices=choices(COMMENT_KINDS, blank=False),
        validators=[InputRequired(message=_l("Choose what kind of comment it is.")), one_of(COMMENT_KINDS)],
        validate_choice=False,
    )
    body = TextAreaField(
        _l("Your comment"), validators=[required(_l("Write your comment.")), max_length(BODY_MAX)]
    )
    proposed_wording = TextAreaField(
        _l("Proposed wording (for amendments)"), validators=[Optional(), max_length(WORDING_MAX)]
    )
    name = StringField(
        _l("Your name"), validators=[required(_l("Enter your name.")), max_length(200)], filters=[strip]
    )
    organisation = StringField(
        _l("Organisation (optional)"), validators=[Optional(), max_length(300)], filters=[strip]
    )
    sector = code_select(_l("Sector"), SECTORS, _l("Choose your sector."))
    region = code_select(_l("Region"), REGIONS, _l("Choose your region."))
    sex = sex_field()
    email = email_field(_l("E-mail (optional)"), optional=True)
    show_name = BooleanField(_l("Show my name publicly next to my comment"))
    consent = BooleanField(
        _l("I agree to the processing of my personal data as described in the privacy notice."),
        validators=[InputRequired(message=_l("Please give your consent so that we can take your comment."))],
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # An amendment is a proposal of new text: without the text the drafters cannot act on it.
        if self.kind.data == "amendment" and not (self.proposed_wording.data or "").strip():
            self.proposed_wording.errors = [
                *self.proposed_wording.errors,
                _l("Please write the wording you propose."),
            ]
            valid = False
        return valid

    def author(self, registration_id: int | None = None) -> CommentAuthor:
        """Who wrote the comment, as the services take it (the page and the API alike)."""
        return CommentAuthor(
            name=self.name.data,
            organisation=self.organisation.data,
            sector=self.sector.data,
            region=self.region.data,
            sex=self.sex.data,
            email=self.email.data,
            show_name=self.show_name.data,
            consented=True,
            registration_id=registration_id,
        )

    def author_values(self) -> dict:
        return {name: getattr(self, name).data for name in AUTHOR_FIELDS}


class UploadForm(BaseForm):
    consultation = SelectField(_l("Consultation"), validators=[required()], validate_choice=False)
    files = MultipleFileField(_l("Document files (one side-by-side file, or one file per language)"))

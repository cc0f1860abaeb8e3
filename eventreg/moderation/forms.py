from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Email, InputRequired, NumberRange, Optional

from eventreg.consultation.services import BODY_MAX, WORDING_MAX, CommentAuthor
from eventreg.forms import (
    MAX_ID,
    BaseForm,
    DeliverableEmail,
    choices,
    coerce_id,
    max_length,
    one_of,
    required,
    strip,
)
from eventreg.i18n import languages
from eventreg.moderation.services import PAPER_SOURCES
from eventreg.vocabulary import (
    COMMENT_KINDS,
    COMMENT_SOURCES,
    DECISIONS,
    HIDE_REASONS,
    REGIONS,
    SECTORS,
    SEXES,
)


class HideForm(BaseForm):
    reason = SelectField(
        _l("Reason for hiding"), validators=[required(), one_of(HIDE_REASONS)], validate_choice=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reason.choices = choices(HIDE_REASONS)


class MergeForm(BaseForm):
    target = IntegerField(
        _l("Number of the original comment"),
        validators=[
            InputRequired(message=_l("Please fill in this field.")),
            NumberRange(min=1, max=MAX_ID, message=_l("Please enter a comment number, like 42.")),
        ],
    )


class BulkForm(BaseForm):
    """Publish or hide the comments ticked in the queue."""

    ids = SelectMultipleField(_l("Selected comments"), coerce=coerce_id, validate_choice=False)
    action = SelectField(validators=[one_of(["publish", "hide"])], validate_choice=False)
    reason = SelectField(_l("Reason for hiding"), validators=[Optional()], validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.action.choices = [("publish", ""), ("hide", "")]
        self.reason.choices = choices(HIDE_REASONS)


class DecisionForm(BaseForm):
    """The decision, and one box per configured language for the part accepted and for the justification.

    Whether a reason or part is required depends on the decision; the service says so and the view
    puts the message next to the right box.
    """

    decision = RadioField(
        _l("Decision"),
        validators=[InputRequired(message=_l("Please choose one option.")), one_of(DECISIONS)],
        validate_choice=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.decision.choices = choices(DECISIONS, blank=False)

    def justification_fields(self):
        return [getattr(self, f"justification_{code}") for code in languages()]

    def justification(self) -> dict[str, str]:
        return {code: getattr(self, f"justification_{code}").data or "" for code in languages()}

    def decision_part(self) -> dict[str, str]:
        return {code: getattr(self, f"part_{code}").data or "" for code in languages()}


def decision_form(**kwargs) -> DecisionForm:
    """A DecisionForm with a part box and a justification box for each language the site is configured with."""
    fields = {}
    for code, name in languages().items():
        fields[f"part_{code}"] = TextAreaField(
            _l("Part accepted in %(language)s", language=name), validators=[Optional(), max_length(5000)]
        )
        fields[f"justification_{code}"] = TextAreaField(
            _l("Justification in %(language)s", language=name), validators=[Optional(), max_length(5000)]
        )
    form_class = type("LanguageDecisionForm", (DecisionForm,), fields)
    return form_class(**kwargs)


class GroupForm(BaseForm):
    ids = SelectMultipleField(_l("Comments in the group"), coerce=coerce_id, validate_choice=False)
    label = StringField(_l("Name of the group"), validators=[Optional(), max_length(200)], filters=[strip])


class PaperEntryForm(BaseForm):
    """One comment given on paper, aloud, by letter or e-mail; the context fields stay for the next one."""

    document = SelectField(_l("Document"), validators=[required()], validate_choice=False, filters=[strip])
    item_number = StringField(
        _l("Item number (empty: the whole document)"),
        validators=[Optional(), max_length(40)],
        filters=[strip],
    )
    event_session = SelectField(
        _l("Session (optional)"), validators=[Optional()], validate_choice=False, filters=[strip]
    )
    source = SelectField(_l("How the comment was given"), validators=[required()], validate_choice=False)
    language = SelectField(_l("Language of the comment"), validators=[required()], validate_choice=False)
    kind = SelectField(
        _l("Kind of comment"), validators=[required(), one_of(COMMENT_KINDS)], validate_choice=False
    )
    # The same limits as the service that stores the comment (one rule, shared with the public form).
    body = TextAreaField(_l("Comment"), validators=[required(), max_length(BODY_MAX)], filters=[strip])
    proposed_wording = TextAreaField(
        _l("Proposed wording (optional)"), validators=[Optional(), max_length(WORDING_MAX)], filters=[strip]
    )
    author_name = StringField(
        _l("Name of the person or organisation"), validators=[required(), max_length(200)], filters=[strip]
    )
    organisation = StringField(
        _l("Organisation (optional)"), validators=[Optional(), max_length(300)], filters=[strip]
    )
    sector = SelectField(_l("Sector"), validators=[required(), one_of(SECTORS)], validate_choice=False)
    region = SelectField(_l("Region"), validators=[required(), one_of(REGIONS)], validate_choice=False)
    sex = SelectField(_l("Sex"), validators=[required(), one_of(SEXES)], validate_choice=False)
    email = EmailField(
        _l("E-mail (optional, to tell them the decision)"),
        filters=[strip],
        validators=[
            Optional(),
            max_length(254),
            Email(message=_l("Please enter a valid e-mail address, like name@example.kg.")),
            DeliverableEmail(),
        ],
    )

    # Cleared after each save; everything else is kept for the next comment of the sitting.
    TEXT_FIELDS = ("item_number", "kind", "body", "proposed_wording")

    def __init__(self, *args, documents=(), sessions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.document.choices = [("", _l("— choose —")), *documents]
        self.document.validators = [required(), one_of([value for value, _ in documents])]
        self.event_session.choices = [("", _l("— none —")), *sessions]
        self.event_session.validators = [Optional(), one_of(["", *[value for value, _ in sessions]])]
        self.source.choices = choices({code: COMMENT_SOURCES[code] for code in PAPER_SOURCES})
        self.source.validators = [required(), one_of(PAPER_SOURCES)]
        self.language.choices = choices(languages())
        self.language.validators = [required(), one_of(languages())]
        self.kind.choices = choices(COMMENT_KINDS)
        self.sector.choices = choices(SECTORS)
        self.region.choices = choices(REGIONS)
        self.sex.choices = choices(SEXES)

    def entry(self) -> dict:
        """What `enter_comment` takes, from this form (the workspace page and the API alike).

        The person handed the comment to us to be considered; their name is not shown publicly.
        """
        return {
            "document_id": int(self.document.data),
            "item_number": self.item_number.data,
            "kind": self.kind.data,
            "body": self.body.data,
            "language": self.language.data,
            "author": CommentAuthor(
                name=self.author_name.data,
                organisation=self.organisation.data,
                sector=self.sector.data,
                region=self.region.data,
                sex=self.sex.data,
                email=self.email.data,
                show_name=False,
                consented=True,
            ),
            "proposed_wording": self.proposed_wording.data,
            "source": self.source.data,
            "event_session_id": int(self.event_session.data) if self.event_session.data else None,
        }

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from eventreg.forms import BaseForm, max_length, one_line, one_of, required, strip


class WriteToSessionForm(BaseForm):
    session_id = SelectField(_l("Session"), validators=[required()], validate_choice=False)
    # One line: a line break in a subject would make a message that can never leave (header injection).
    subject = StringField(_l("Subject"), validators=[required(), max_length(200)], filters=[one_line, strip])
    body = TextAreaField(_l("Message"), validators=[required(), max_length(10000)], filters=[strip])
    include_waitlisted = BooleanField(_l("Also send it to people on the waiting list"))

    def set_sessions(self, choices: list[tuple[str, str]]) -> None:
        self.session_id.choices = [("", _l("— choose —")), *choices]
        self.session_id.validators = [required(), one_of([value for value, _label in choices])]

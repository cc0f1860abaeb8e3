from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import Email, EqualTo, Length, Optional

from eventreg.forms import BaseForm, max_length, one_of, required, strip
from eventreg.models import Role

from .services import MIN_PASSWORD_LENGTH

ROLE_LABELS = {
    Role.ADMIN.value: _l("Admin"),
    Role.ORGANISER.value: _l("Organiser"),
    Role.ANALYST.value: _l("Analyst (read only)"),
}


def _role_choices():
    return list(ROLE_LABELS.items())


def _new_password(label):
    return PasswordField(
        label,
        validators=[
            required(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=lazy_ngettext(
                    "The password needs at least %(num)d character.",
                    "The password needs at least %(num)d characters.",
                    MIN_PASSWORD_LENGTH,
                ),
            ),
        ],
    )


class LoginForm(BaseForm):
    email = EmailField(_l("E-mail"), filters=[strip], validators=[required(), max_length(254)])
    password = PasswordField(_l("Password"), validators=[required(), max_length(200)])
    next = HiddenField()


class UserCreateForm(BaseForm):
    email = EmailField(
        _l("E-mail"),
        filters=[strip],
        validators=[
            required(),
            max_length(254),
            Email(message=_l("Please enter a valid e-mail address, like name@example.kg.")),
        ],
    )
    name = StringField(_l("Name"), filters=[strip], validators=[Optional(), max_length(200)])
    role = SelectField(_l("Role"), choices=_role_choices, validators=[required(), one_of(ROLE_LABELS)])
    password = _new_password(_l("Password"))
    confirm = PasswordField(
        _l("Password again"),
        validators=[required(), EqualTo("password", message=_l("The two passwords are not the same."))],
    )


class RoleForm(BaseForm):
    role = SelectField(_l("Role"), choices=_role_choices, validators=[required(), one_of(ROLE_LABELS)])


class PasswordResetForm(BaseForm):
    password = _new_password(_l("New password"))
    confirm = PasswordField(
        _l("New password again"),
        validators=[required(), EqualTo("password", message=_l("The two passwords are not the same."))],
    )


class ApiKeyForm(BaseForm):
    name = StringField(
        _l("What the key is for (e.g. the ministry's dashboard)"),
        filters=[strip],
        validators=[required(), max_length(200)],
    )
    role = SelectField(_l("Role"), choices=_role_choices, validators=[required(), one_of(ROLE_LABELS)])

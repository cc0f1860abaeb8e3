"""Who is logged in, and the one decorator every workspace view uses to check roles on the server."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask, abort
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin, current_user, login_required

from eventreg.extensions import db, login_manager
from eventreg.models import Role, User


class LoggedInUser(UserMixin):
    """Wraps a User for Flask-Login; the id carries the session version so logout revokes cookies."""

    def __init__(self, user: User):
        self.user = user

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.session_version}"

    @property
    def is_active(self) -> bool:
        return self.user.active

    @property
    def role(self) -> str:
        return self.user.role

    def has_role(self, *roles: str) -> bool:
        return self.user.active and (self.user.role == Role.ADMIN or self.user.role in roles)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str) -> LoggedInUser | None:
        try:
            raw_id, version = user_id.split(":", 1)
            user = db.session.get(User, int(raw_id))
        except (ValueError, TypeError):
            return None
        if user is None or not user.active or str(user.session_version) != version:
            return None
        return LoggedInUser(user)


def roles_required(*roles: str) -> Callable:
    """Anonymous visitors go to the login page; logged-in users without the role get 403.

    Admins pass every check. Every workspace view carries this decorator (a test walks the URL map).
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        protected = login_required(wrapped)
        protected.required_roles = roles  # read by the URL-map test
        return protected

    return decorator

"""Logging a test client in as a staff member without going through the login form."""

from __future__ import annotations

import itertools

from flask_login.utils import _create_identifier

from eventreg.accounts.passwords import hash_password
from eventreg.models import User

_n = itertools.count(1)
PASSWORD = "correct horse battery staple"
_HASH = None


def make_user(db_session, role: str = "organiser", **overrides) -> User:
    global _HASH
    if _HASH is None:
        _HASH = hash_password(PASSWORD)
    values = {"email": f"staff{next(_n)}@example.kg", "name": "Staff", "password_hash": _HASH, "role": role}
    values.update(overrides)
    user = User(**values)
    db_session.add(user)
    db_session.commit()
    return user


def login_as(client, app, user: User) -> User:
    """Put `user` in the client's session the way Flask-Login does after a real login."""
    with app.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as session:
        session["_user_id"] = f"{user.id}:{user.session_version}"
        session["_fresh"] = True
        session["_id"] = identifier
    return user

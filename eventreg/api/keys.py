"""API keys: creating and revoking them (admins), and recognising them on a request.

A key is 256 random bits shown once; only its SHA-256 is stored, so a copy of the database does not
give anyone a working key. Requests send it as `Authorization: Bearer <key>`.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from flask import g, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from eventreg import audit
from eventreg.api.problems import ApiProblem
from eventreg.db import lock_one, unit_of_work
from eventreg.extensions import db
from eventreg.models import ApiKey, Role, User, utcnow

log = logging.getLogger(__name__)

KEY_PREFIX = "evr_"
# Last use is written at most this often per key, so reading the API does not turn every GET into a write.
LAST_USE_PRECISION = timedelta(minutes=1)


class ApiKeyError(Exception):
    pass


class UnknownRole(ApiKeyError):
    pass


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(session: Session, name: str, role: str, *, by: User) -> tuple[ApiKey, str]:
    """A new key for `role`; returns the row and the key itself, which is never stored or shown again."""
    if role not in {r.value for r in Role}:
        raise UnknownRole(role)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name.strip(),
        role=role,
        key_hash=hash_key(secret),
        prefix=secret[:10],
        created_by_id=by.id,
        created_at=utcnow(),
    )
    session.add(key)
    session.flush()
    audit.record(session, by, "api_key.create", key, role=role)
    return key, secret


def revoke_api_key(session: Session, key_id: int, *, by: User) -> ApiKey | None:
    key = lock_one(session, ApiKey, key_id)
    if key is None:
        return None
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(session, by, "api_key.revoke", key)
        session.flush()
    return key


def list_api_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc())))


def touch_key(session: Session) -> None:
    """Note the key's use inside the caller's unit of work (writes: one transaction, retried whole)."""
    key = g.get("api_key")
    if key is None:
        return
    now = utcnow()
    if key.last_used_at is None or key.last_used_at < now - LAST_USE_PRECISION:
        locked = lock_one(session, ApiKey, key.id)
        locked.last_used_at = now


def key_from_request() -> ApiKey:
    """The active key of this request, or a 401 problem (no key, unknown or revoked)."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret or len(secret) > 200:
        raise ApiProblem(401, _("Send your API key as: Authorization: Bearer <key>."), code="no-key")
    if not secret.isascii():  # our keys are ASCII; anything else cannot be one (nor be hashed as UTF-8)
        raise ApiProblem(401, _("This API key is not known."), code="unknown-key")
    key = db.session.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(secret))).first()
    if key is None:
        raise ApiProblem(401, _("This API key is not known."), code="unknown-key")
    # A key stops with its creator's account: a disabled admin's keys are as good as revoked.
    if key.revoked_at is not None or not key.created_by.active:
        raise ApiProblem(401, _("This API key has been revoked."), code="revoked-key")
    return key


def key_required(*roles: str) -> Callable:
    """Like `roles_required` for the workspace: admin keys pass every check; others need the role."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            key = key_from_request()
            if key.role != Role.ADMIN and key.role not in roles:
                raise ApiProblem(403, code="wrong-role")
            g.api_key = key
            if request.method in ("GET", "HEAD"):
                # Reads note the use in a short unit of their own; writes do it in theirs (touch_key).
                try:
                    with unit_of_work(db.session):
                        touch_key(db.session)
                except DBAPIError:
                    # Last use is a courtesy: a busy database must not refuse the read itself.
                    log.warning("could not note the use of API key %s", key.id)
            return view(*args, **kwargs)

        wrapped.required_key_roles = roles
        return wrapped

    return decorator


def acting_user() -> User:
    """Who a key's writes are recorded under: the admin who created it."""
    return db.session.get(User, g.api_key.created_by_id)

"""Staff accounts: logging in, and the admin's account management. Callable from views, CLI and tests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from eventreg import audit
from eventreg.accounts.passwords import hash_password, needs_rehash, verify_password
from eventreg.db import lock_one, require_unit_of_work
from eventreg.models import AuditEntry, Role, User, utcnow

MIN_PASSWORD_LENGTH = 10
ROLES = tuple(role.value for role in Role)


class AccountError(Exception):
    """An account change that cannot be carried out; the view or CLI turns it into a message."""


class EmailTaken(AccountError):
    pass


class PasswordTooShort(AccountError):
    pass


class UnknownRole(AccountError):
    pass


class CannotChangeOwnAccess(AccountError):
    """An admin may not demote or disable themselves: the last admin would lock everyone out."""


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == normalise_email(email))).first()


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, else None (the same None for every failure).

    An unknown e-mail still runs one argon2 verification, so timing does not tell which e-mails exist.
    """
    user = find_by_email(session, email)
    if not verify_password(user.password_hash if user else None, password):
        return None
    if user is None or not user.active:
        return None
    return user


def record_login(session: Session, user_id: int, password: str) -> User:
    """Note a successful log-in (and upgrade the password hash if its parameters are old)."""
    user = lock_one(session, User, user_id)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    session.flush()
    return user


def end_sessions(session: Session, user_id: int) -> None:
    """Invalidate every session cookie this user has (the cookie carries the old version)."""
    lock_one(session, User, user_id).session_version += 1
    session.flush()


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort()


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UnknownRole(role)


def create_user(
    session: Session, email: str, password: str, role: str, *, name: str = "", by: User | None = None
) -> User:
    _check_role(role)
    _check_password(password)
    email = normalise_email(email)
    require_unit_of_work(session)
    if find_by_email(session, email) is not None:
        raise EmailTaken(email)
    user = User(email=email, name=name.strip(), password_hash=hash_password(password), role=role)
    session.add(user)
    try:
        with session.begin_nested():  # PostgreSQL: two admins creating the same address at once
            session.flush()
    except IntegrityError as exc:
        raise EmailTaken(email) from exc
    audit.record(session, by, "user.create", user, role=role)
    session.flush()
    return user


def change_role(session: Session, user_id: int, role: str, *, by: User) -> User:
    _check_role(role)
    if user_id == by.id and role != Role.ADMIN:
        raise CannotChangeOwnAccess()
    user = lock_one(session, User, user_id)
    old = user.role
    user.role = role
    audit.record(session, by, "user.role", user, old=old, new=role)
    session.flush()
    return user


def set_active(session: Session, user_id: int, active: bool, *, by: User) -> User:
    if user_id == by.id and not active:
        raise CannotChangeOwnAccess()
    user = lock_one(session, User, user_id)
    user.active = active
    # Re-enabling must not bring back a cookie from before the account was disabled.
    user.session_version += 1
    audit.record(session, by, "user.enable" if active else "user.disable", user)
    session.flush()
    return user


def reset_password(session: Session, user_id: int, password: str, *, by: User | None) -> User:
    _check_password(password)
    user = lock_one(session, User, user_id)
    user.password_hash = hash_password(password)
    user.session_version += 1  # whoever knew the old password is logged out
    audit.record(session, by, "user.password_reset", user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.role, User.email)))


DEMO_ACCOUNTS = (
    ("admin@demo.kg", "demo-admin", Role.ADMIN.value, "Demo admin"),
    ("organiser@demo.kg", "demo-organiser", Role.ORGANISER.value, "Demo organiser"),
    ("analyst@demo.kg", "demo-analyst", Role.ANALYST.value, "Demo analyst"),
)


def create_demo_accounts(session: Session) -> list[User]:
    """The three demo logins (shown by `make run`); only for the demo, never in production data.

    Their passwords are shorter than MIN_PASSWORD_LENGTH on purpose, so they skip that check.
    """
    created = []
    for email, password, role, name in DEMO_ACCOUNTS:
        if find_by_email(session, email) is not None:
            continue
        user = User(email=email, name=name, password_hash=hash_password(password), role=role)
        session.add(user)
        created.append(user)
    session.flush()
    return created


@dataclass
class AuditPage:
    entries: list[AuditEntry]
    page: int
    pages: int
    total: int


AUDIT_PAGE_SIZE = 50


def audit_entries(
    session: Session, *, user_id: int | None = None, action: str = "", page: int = 1
) -> AuditPage:
    """Newest first; `action` matches a whole verb ("session.cancel") or a prefix ("session.")."""
    stmt = select(AuditEntry)
    if user_id is not None:
        stmt = stmt.where(AuditEntry.user_id == user_id)
    if action:
        stmt = stmt.where(
            (AuditEntry.action == action)
            | AuditEntry.action.startswith(action.rstrip(".") + ".", autoescape=True)
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    pages = max((total + AUDIT_PAGE_SIZE - 1) // AUDIT_PAGE_SIZE, 1)
    page = min(max(page, 1), pages)
    entries = session.scalars(
        stmt.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .offset((page - 1) * AUDIT_PAGE_SIZE)
        .limit(AUDIT_PAGE_SIZE)
    )
    return AuditPage(list(entries), page, pages, total)


def audit_actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))

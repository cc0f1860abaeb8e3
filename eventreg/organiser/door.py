"""The check-in list at the door: who may be checked in, found the way people at a desk say who they are.

Read-only; the check-in itself is `eventreg.registration.services.check_in`.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from eventreg.collation import sort_key
from eventreg.models import Registration, RegistrationStatus

_NOT_DIGITS = re.compile(r"\D+")


def matches(registration: Registration, query: str) -> bool:
    """Name or organisation (any case, Kyrgyz letters included), phone digits, or the personal code.

    In Python rather than SQL: SQLite folds only ASCII case, and a session has a few hundred people.
    The code is the start of the personal link's token (what a QR reader shows) or the registration number.
    """
    text = query.strip().casefold()
    if not text:
        return True
    if text in registration.full_name.casefold() or text in registration.organisation.casefold():
        return True
    digits = _NOT_DIGITS.sub("", text)
    if len(digits) >= 4 and digits in _NOT_DIGITS.sub("", registration.phone or ""):
        return True
    code = query.strip().rsplit("/r/", 1)[-1]
    if len(code) >= 6 and registration.token.startswith(code):
        return True
    return text.lstrip("#№") == str(registration.id)


def door_list(session: Session, event_session_id: int, query: str = "") -> list[Registration]:
    """Confirmed people in alphabetical order (Kyrgyz/Russian collation) that match the search."""
    rows = session.scalars(
        select(Registration).where(
            Registration.session_id == event_session_id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
    )
    return sorted((r for r in rows if matches(r, query)), key=lambda r: sort_key(r.full_name))

"""What makes a message impossible to send, checked when it is queued rather than found by the worker."""

from __future__ import annotations


class Undeliverable(ValueError):
    """A message that could never leave: said to whoever queued it, never stored."""

    def __init__(self, reason: str, *, field: str):
        super().__init__(reason)
        self.reason = reason
        self.field = field  # "recipient" or "subject"


def address_problem(address: str, *, smtputf8: bool = False) -> str | None:
    """Why this address cannot be sent to, or None. Non-ASCII domains are fine (IDNA); a non-ASCII
    local part needs a relay with SMTPUTF8."""
    address = address or ""
    if any(c in address for c in "\r\n") or address.count("@") != 1:
        return "malformed address"
    local, domain = address.rsplit("@", 1)
    if not local or not domain:
        return "malformed address"
    if not local.isascii() and not smtputf8:
        return "non-ASCII before the @ and the mail server has no SMTPUTF8"
    try:
        domain.encode("idna")
    except UnicodeError:
        return "domain cannot be encoded"
    return None


def header_problem(value: str) -> str | None:
    """A header (the subject) with a line break would be refused or, worse, split into two headers."""
    if any(c in (value or "") for c in "\r\n\x00"):
        return "line break in a header"
    return None


def check_message(recipient: str, subject: str, *, smtputf8: bool = False) -> None:
    problem = address_problem(recipient, smtputf8=smtputf8)
    if problem:
        raise Undeliverable(problem, field="recipient")
    problem = header_problem(subject)
    if problem:
        raise Undeliverable(problem, field="subject")

"""A participant's personal link: the one place it is built (pages, QR codes, e-mails and calendars).

A leaf: it imports nothing from the areas, so mail can be handed links without importing registration.
"""

from __future__ import annotations

from flask import current_app

from eventreg.models import Registration


def personal_link(registration: Registration) -> str:
    # From BASE_URL, never from the request's Host header: the link is mailed, printed and shown as a
    # QR code to someone else's phone, and a forged Host must not end up in it.
    base = current_app.config["BASE_URL"]
    return f"{base}/{registration.locale}/r/{registration.token}"

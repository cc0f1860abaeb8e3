"""Mail that cannot vanish: outside development and tests, no mail server means nothing is marked sent.

Logging a message instead of sending it is for `make run` and the tests only. In production a worker
without MAIL_SERVER would mark every message sent while none left, so it refuses to run; the web app, which
only queues, says at start-up that mail will wait in the outbox until a worker with a mail server runs.
"""

from __future__ import annotations

import logging

from flask import Flask

log = logging.getLogger(__name__)


class MailNotConfigured(RuntimeError):
    """Sending was asked for outside development and tests, with no mail server to send through."""


def may_log_instead_of_sending(config) -> bool:
    return bool(config.get("DEVELOPMENT") or config.get("TESTING"))


def require_mail_server(config) -> None:
    if not config.get("MAIL_SERVER") and not may_log_instead_of_sending(config):
        raise MailNotConfigured(
            "MAIL_SERVER is not set: refusing to send, because messages would be marked sent without "
            "leaving. Set MAIL_SERVER (and MAIL_PORT, MAIL_USE_TLS, MAIL_USERNAME, MAIL_PASSWORD), or "
            "EVENTREG_ENV=development to only log them."
        )


def warn_at_start_up(app: Flask) -> None:
    if not app.config.get("MAIL_SERVER") and not may_log_instead_of_sending(app.config):
        log.warning(
            "MAIL_SERVER is not set: e-mail (confirmations, personal links) will be queued in the outbox "
            "but will NOT leave until MAIL_SERVER is set and the worker runs."
        )

"""Nothing personal in the logs: a personal link's token never reaches a log line.

A token opens someone's registration, so request logs (gunicorn's access log, and werkzeug's when the
development server or a test's live server runs) show /ru/r/[token]/... instead. Form data is never
logged, database errors are logged without their parameters (hide_parameters on every engine, db.py), and
rate-limit keys built from a typed e-mail are hashed (ratelimit.hashed).
"""

from __future__ import annotations

import logging
import re

_TOKEN_PATH = re.compile(r"(/r/)[^/?#\s\"']+")


def redact(text: str) -> str:
    return _TOKEN_PATH.sub(r"\1[token]", text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def init_app(_app=None) -> None:
    """Request logs of the development server carry the path: keep tokens out of them."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactTokens) for f in logger.filters):
        logger.addFilter(RedactTokens())


def without_values(error: BaseException) -> str:
    """Where an error happened (the frames) and what kind it was, without its message: database errors
    repeat the offending row (PostgreSQL's 'DETAIL: Key (email)=(…)'), and others quote what was typed."""
    import traceback

    frames = "".join(traceback.format_tb(error.__traceback__))
    kind = f"{type(error).__module__}.{type(error).__qualname__}"
    cause = error.__cause__ or error.__context__
    caused_by = f" (from {type(cause).__module__}.{type(cause).__qualname__})" if cause is not None else ""
    return f"Traceback (most recent call last):\n{frames}{kind}{caused_by}: [message withheld]"


def log_error(logger: logging.Logger, error: BaseException, message: str, *args) -> None:
    """logger.exception without the exception's message (see without_values)."""
    logger.error(message + "\n%s", *args, without_values(error))

"""Rate limits that never take the site down with their store.

The counters live in Redis when several instances share them. If Redis is unreachable at start-up or goes
away mid-run, every request still goes on: Flask-Limiter falls back to counting in this process's memory
(the same limits, per process) and checks the store again with a back-off, returning to it once it answers.
The fall-back is logged as an error, and /healthz reports the store as degraded.
"""

from __future__ import annotations

import hashlib
import logging

from flask import Flask, current_app

log = logging.getLogger(__name__)

# Short timeouts: a store that does not answer must cost a request a fraction of a second, not minutes.
REDIS_TIMEOUT_SECONDS = 0.5


class _LoudFallback(logging.Filter):
    """Flask-Limiter says 'falling back' as a warning; for an operator it is an error to act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "falling back to in-memory storage" in record.getMessage():
            record.levelno, record.levelname = logging.ERROR, "ERROR"
            record.msg = (
                "RATE-LIMIT STORE UNREACHABLE: limits now count per process, in memory, "
                "until the store answers again (check REDIS_URL / RATELIMIT_STORAGE_URI)"
            )
            record.args = ()
        return True


def configure(config: dict) -> None:
    """Settings for Flask-Limiter, applied before init_app."""
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    if is_shared(config) and str(config.get("RATELIMIT_STORAGE_URI", "")).startswith(("redis", "rediss")):
        options = dict(config.get("RATELIMIT_STORAGE_OPTIONS") or {})
        options.setdefault("socket_connect_timeout", REDIS_TIMEOUT_SECONDS)
        options.setdefault("socket_timeout", REDIS_TIMEOUT_SECONDS)
        config["RATELIMIT_STORAGE_OPTIONS"] = options


def is_shared(config: dict) -> bool:
    return not str(config.get("RATELIMIT_STORAGE_URI") or "memory://").startswith("memory://")


def init_app(app: Flask) -> None:
    from eventreg.extensions import limiter

    limiter.init_app(app)
    # One Limiter serves every app built in this process (tests build many): a new app starts by trusting
    # its own store, and the limiter finds out again if it is down.
    limiter._storage_dead = False
    limiter_log = logging.getLogger("flask-limiter")
    if not any(isinstance(f, _LoudFallback) for f in limiter_log.filters):
        limiter_log.addFilter(_LoudFallback())


def store_health() -> str:
    """'ok', 'per-process' (memory by configuration) or 'degraded' (the shared store does not answer)."""
    from eventreg.extensions import limiter

    if not is_shared(current_app.config):
        return "per-process"
    try:
        alive = limiter.storage.check()
    except Exception:  # a store that cannot even be asked is down
        alive = False
    return "ok" if alive else "degraded"


def hashed(value: str) -> str:
    """A rate-limit key that counts the same value without storing or logging it (an e-mail address)."""
    secret = str(current_app.config.get("SECRET_KEY") or "")
    return hashlib.sha256(f"{secret}\0{value}".encode()).hexdigest()[:32]

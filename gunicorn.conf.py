"""gunicorn settings for the Procfile's web process (read by gunicorn, not by the app).

Rate limits are exact only when every request is counted in one place. With a shared store (REDIS_URL or
RATELIMIT_STORAGE_URI) any number of workers share the counters. Without one, the counters live in the
process's memory, so the app runs as ONE process with threads: several workers would each count alone and
multiply every limit.

Access log lines never carry a personal link's token: /ru/r/<token>/... is logged as /ru/r/[token]/....
"""

from __future__ import annotations

import os
import sys

from gunicorn.glogging import Logger

from eventreg.logs import redact


def _shared_rate_limit_store(env=os.environ) -> bool:
    uri = env.get("RATELIMIT_STORAGE_URI") or env.get("REDIS_URL") or "memory://"
    return not uri.startswith("memory://")


def worker_count(env=os.environ) -> int:
    requested = int(env.get("WEB_CONCURRENCY") or 0)
    if _shared_rate_limit_store(env):
        return requested or 3
    if requested > 1:
        print(
            f"WEB_CONCURRENCY={requested} ignored: without REDIS_URL the rate limits count in one process's "
            "memory, so the web process runs 1 worker with threads (set REDIS_URL to run several).",
            file=sys.stderr,
        )
    return 1


class RedactingLogger(Logger):
    """The access log without personal-link tokens (they open someone's registration)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f", "{raw_uri}e"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms


bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
workers = worker_count()
threads = int(os.environ.get("WEB_THREADS") or 8)
logger_class = RedactingLogger
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'

"""A short-lived cache of the public pages, for visitors who carry nothing personal.

Where the time goes (bench/PROFILE.md): a public page is mostly template rendering, the same HTML for
every anonymous visitor of the same address. This keeps each such page, per worker process, for up to
PAGE_CACHE_SECONDS (default 10; 0 turns the cache off), and answers from it instead of rendering.

What keeps it correct for every visitor:

- Only GET requests for the pages in CACHEABLE_ENDPOINTS, and only for a visitor whose session holds
  nothing but the CSRF secret: anyone logged in, with a flashed message, or with remembered comment
  details (their name is in the form) is never served from the cache and never fills it.
- The key is the path and query string; the language is part of the path, nothing else of the request
  reaches these pages.
- Forms carry a CSRF token tied to the visitor's session cookie. The stored page holds a placeholder
  instead; each answer puts in the token of the visitor it is sent to (a new visitor gets a new secret
  and cookie, exactly as when the page is rendered). Headers are never stored, so no Set-Cookie of one
  visitor reaches another.
- Only 200 answers are kept. A commit that wrote something empties the cache of every worker on the
  machine (a stamp file in the instance folder); another machine behind the same load balancer shows it
  after at most PAGE_CACHE_SECONDS. Counts such as "places left" may lag that long there, never the
  decision itself: that is always made under the lock, on fresh rows.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, current_app, g, request, session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event

CACHEABLE_ENDPOINTS = frozenset(
    {
        "registration.sessions",
        "registration.session_detail",
        "consultation.index",
        "consultation.document",
        "consultation.comment",
        "consultation.comment_document",
        "main.privacy",
    }
)
# Session keys a visitor may carry and still share a page with everyone: only the CSRF secret, which
# the page does not show (it shows a token signed from it, put in per answer).
ANONYMOUS_SESSION_KEYS = frozenset({"csrf_token"})
CSRF_PLACEHOLDER = b"__eventreg_csrf_token_placeholder__"
EXTENSION = "eventreg.page_cache"


@dataclass(frozen=True)
class Entry:
    expires: float
    body: bytes
    content_type: str
    has_csrf: bool


STAMP_BYTES = 16


def _close(pid: int, fd: int) -> None:
    if os.getpid() == pid:  # a forked worker never closes its parent's descriptor number
        with contextlib.suppress(OSError):
            os.close(fd)


class PageCache:
    """Pages by key, each until it expires; emptied when a write commits here or in a sibling worker.

    Workers of one machine share the instance folder: a worker that commits a write puts a new random
    value in `stamp_path()`, and every worker empties its cache when it sees the value change. Other
    machines behind a load balancer show the write when their copies expire.
    """

    def __init__(self, seconds: float, max_entries: int = 512, stamp_path: Callable[[], Path] | None = None):
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._stamp_path = stamp_path
        self._stamp_seen: bytes | None = None
        self._stamp_fd: tuple[int, int] | None = None  # (process id, descriptor): a fork opens its own
        self._stamp_checked = 0.0
        self.stamp_recheck_seconds = 2.0

    def _stamp(self) -> int | None:
        """The stamp file, kept open by this process (opening it for every request costs more than reading)."""
        if self._stamp_path is None:
            return None
        pid = os.getpid()
        with self._lock:
            if self._stamp_fd is not None and self._stamp_fd[0] == pid and self._stamp_replaced():
                _close(*self._stamp_fd)
                self._stamp_fd = None
            if self._stamp_fd is None or self._stamp_fd[0] != pid:
                try:
                    fd = os.open(self._stamp_path(), os.O_RDWR | os.O_CREAT, 0o600)
                except OSError:
                    return None  # no shared folder: the siblings' copies still expire
                self._stamp_fd = (pid, fd)
                self._stamp_checked = time.monotonic()
                weakref.finalize(self, _close, pid, fd)
            return self._stamp_fd[1]

    def _stamp_replaced(self) -> bool:
        """Whether the open stamp file is no longer the one at the path (removed, or replaced by a worker of
        an older version during a reload); looked at every few seconds, so that all workers meet again."""
        now = time.monotonic()
        if now - self._stamp_checked < self.stamp_recheck_seconds:
            return False
        self._stamp_checked = now
        try:
            return os.fstat(self._stamp_fd[1]).st_ino != os.stat(self._stamp_path()).st_ino
        except OSError:
            return True

    def _read_stamp(self) -> bytes | None:
        fd = self._stamp()
        try:
            return os.pread(fd, STAMP_BYTES, 0) if fd is not None else None
        except OSError:
            return None

    def written(self) -> None:
        """A write was committed in this process: forget everything, and tell the sibling workers.

        The new value is written in place. A sibling that reads it half-written sees a value it has not
        seen either, which empties its cache just the same; nobody can read back the value they had.
        """
        self.clear()
        fd = self._stamp()
        if fd is None:
            return
        value = secrets.token_bytes(STAMP_BYTES)
        try:
            os.pwrite(fd, value, 0)
        except OSError:
            return
        with self._lock:
            self._stamp_seen = value

    def get(self, key: str) -> Entry | None:
        stamp = self._read_stamp()
        with self._lock:
            if stamp != self._stamp_seen:
                self._stamp_seen = stamp
                self._entries.clear()
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.expires <= time.monotonic():
                del self._entries[key]
                return None
            return entry

    def put(self, key: str, entry: Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self, *_args) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def _anonymous() -> bool:
    if "remember_token" in request.cookies:
        return False
    for key, value in session.items():
        # Flask-Login's strong session protection marks an anonymous session "forget any remember-me
        # cookie"; that says nothing about the visitor.
        if key not in ANONYMOUS_SESSION_KEYS and not (key == "_remember" and value == "clear"):
            return False
    return True


def _eligible(app: Flask) -> bool:
    return request.method == "GET" and request.endpoint in CACHEABLE_ENDPOINTS and _anonymous()


def _empty_after_writes(factory, cache: PageCache) -> None:
    """Empty the cache when a transaction that wrote something commits (reads leave it alone)."""
    flag = "eventreg_page_cache_wrote"

    def wrote(session, *_args) -> None:
        session.info[flag] = True

    def statement(state) -> None:
        if not state.is_select:
            state.session.info[flag] = True

    def committed(session) -> None:
        if session.info.pop(flag, False):
            cache.written()

    def rolled_back(session, _previous) -> None:
        session.info.pop(flag, None)

    event.listen(factory, "after_flush", wrote)
    event.listen(factory, "do_orm_execute", statement)
    event.listen(factory, "after_commit", committed)
    event.listen(factory, "after_soft_rollback", rolled_back)


def init_app(app: Flask) -> None:
    seconds = float(app.config.get("PAGE_CACHE_SECONDS", 0) or 0)
    if seconds <= 0:
        return
    cache = PageCache(
        seconds,
        int(app.config.get("PAGE_CACHE_MAX_ENTRIES", 512)),
        stamp_path=lambda: Path(app.instance_path) / "page-cache.stamp",
    )
    app.extensions[EXTENSION] = cache
    _empty_after_writes(app.extensions["eventreg.db"]["sessionmaker"], cache)

    @app.before_request
    def answer_from_cache():
        if not _eligible(app):
            return None
        key = request.full_path
        entry = cache.get(key)
        if entry is None:
            g.page_cache_key = key
            return None
        body = entry.body
        if entry.has_csrf:
            body = body.replace(CSRF_PLACEHOLDER, generate_csrf().encode())
        return Response(body, status=200, content_type=entry.content_type)

    @app.after_request
    def keep_in_cache(response: Response) -> Response:
        key = g.pop("page_cache_key", None)
        if key is None or response.status_code != 200 or response.is_streamed:
            return response
        if not _anonymous():  # the request itself put something personal in the session
            return response
        body = response.get_data()
        field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        token = g.get(field)
        has_csrf = bool(token) and token.encode() in body
        if has_csrf:
            body = body.replace(token.encode(), CSRF_PLACEHOLDER)
        elif f'name="{field}"'.encode() in body:
            return response  # a token this code did not recognise: never keep it for someone else
        cache.put(key, Entry(time.monotonic() + seconds, body, response.content_type, has_csrf))
        return response

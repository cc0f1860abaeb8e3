"""Engine, session and the one unit of work.

The convention (README, "Architecture"): a request, a CLI command or one worker step owns its unit of
work. It opens it with `unit_of_work(session)`, which begins a transaction that holds the write lock from
its first statement on SQLite (BEGIN IMMEDIATE) and commits once at the end. Services receive ids or
plain values, lock the rows they decide on with `lock_one`/`lock_all` (SELECT ... FOR UPDATE on
PostgreSQL; on SQLite the IMMEDIATE transaction already is the lock), re-read them under that lock,
check, write and flush. They never commit, so they compose: one service may call another inside the
same unit of work.

On SQLite, the units of work of one process wait for the write lock in a queue of their own (a thread
lock per database file) before BEGIN IMMEDIATE. SQLite's busy handler would make them poll instead,
sleeping 1, 2, 5 … up to 100 ms between tries, so under load the lock stood free while its waiters slept
(bench/PROFILE.md); in the queue the next writer starts as soon as the previous one commits. Processes
still meet at SQLite's own lock, as before; the queue only decides the order within one.

A transient lock error (SQLite busy past its timeout, a PostgreSQL deadlock or serialization failure)
rolls the whole unit back; `run_in_unit_of_work` and the request dispatcher (see eventreg/__init__.py)
retry it a bounded number of times, then raise `DatabaseBusy`, which the error pages turn into a
translated "please try again" page that gives back everything that was typed.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from flask import Flask, current_app, g, has_app_context, has_request_context
from sqlalchemy import Engine, Select, create_engine, event, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

IMMEDIATE = "eventreg_sqlite_immediate"
_IN_UNIT = "eventreg_unit_of_work"
_QUEUED = "eventreg_writer_queue"

T = TypeVar("T")


class Base(DeclarativeBase):
    pass


class UnitOfWorkRequired(RuntimeError):
    """A service tried to lock or write outside a unit of work: a programming error, never user input."""


class DatabaseBusy(Exception):
    """The database stayed locked through every retry; the person is asked to send again."""


def _normalise_url(url: str) -> str:
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the driver spelled out.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str, *, sqlite_busy_timeout_ms: int = 30000, **kwargs) -> Engine:
    url = _normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": sqlite_busy_timeout_ms / 1000, "check_same_thread": False},
            # Error messages and logs never carry the values of a statement: they are people's details.
            hide_parameters=True,
            **kwargs,
        )
        _configure_sqlite(engine, sqlite_busy_timeout_ms)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True, **kwargs)


class _WriterQueue:
    """The units of work of one process that write to one SQLite file, one after the other."""

    def __init__(self, timeout_seconds: float):
        self.lock = threading.Lock()
        self.timeout_seconds = timeout_seconds


_writer_queues: dict[str, _WriterQueue] = {}
_writer_queues_guard = threading.Lock()


def _queue_key(engine: Engine) -> str:
    # One queue per database, shared by every engine on it in this process (tests build many apps).
    return engine.url.render_as_string(hide_password=True)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    with _writer_queues_guard:
        queue = _writer_queues.setdefault(_queue_key(engine), _WriterQueue(busy_timeout_ms / 1000))
        queue.timeout_seconds = busy_timeout_ms / 1000  # the latest engine's setting, not the first one's

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Take transaction control away from the driver so that we decide how BEGIN is spelled.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL loses nothing when the app crashes (only on a power cut, the last commits), and
        # a commit no longer waits for the disk: the write lock is held for far less time.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        immediate = conn.get_execution_options().get(IMMEDIATE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


class Database:
    """A tiny Flask integration: `db.session` is the current app context's session."""

    def init_app(self, app: Flask) -> None:
        engine = make_engine(
            app.config["DATABASE_URL"],
            sqlite_busy_timeout_ms=int(app.config.get("SQLITE_BUSY_TIMEOUT_MS", 8000)),
            **app.config.get("ENGINE_OPTIONS", {}),
        )
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        # First of all after-commit work (such as the page cache's stamp file): the lock is free by then.
        event.listen(factory, "after_commit", leave_writer_queue, insert=True)

        @event.listens_for(factory, "after_commit")
        def note_commit(_session):
            # A request that committed once must not be replayed by the retry in dispatch_request.
            if has_request_context():
                g.db_committed = True

        app.extensions["eventreg.db"] = {"engine": engine, "sessionmaker": factory}
        app.teardown_appcontext(self._close_session)

    @property
    def engine(self) -> Engine:
        return current_app.extensions["eventreg.db"]["engine"]

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = current_app.extensions["eventreg.db"]["sessionmaker"]()
        return g.db_session

    @staticmethod
    def _close_session(_exc=None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


db = Database()


# --- the unit of work -------------------------------------------------------------------------------


def in_unit_of_work(session: Session) -> bool:
    return bool(session.info.get(_IN_UNIT))


def require_unit_of_work(session: Session) -> None:
    """Services that write call this first: their caller must own the transaction."""
    if not in_unit_of_work(session):
        raise UnitOfWorkRequired("open a unit_of_work(session) in the route, command or worker step")


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    """One transaction that may write, owned by the caller: begins with the write lock, commits once.

    Anything read before it was read outside the lock, so a read-only transaction still open is ended
    first (its objects are expired and reload under the lock). Pending changes made outside a unit of
    work are a programming error, never silently committed. Units do not nest: services compose inside
    one, they do not open their own.
    """
    if in_unit_of_work(session):
        raise UnitOfWorkRequired("a unit of work is already open; services must not open another")
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise UnitOfWorkRequired("changes were made outside a unit of work")
        session.rollback()
    session.info[_IN_UNIT] = True
    try:
        if is_sqlite(session) and not locks_skipped():
            _join_writer_queue(session)
            session.connection(execution_options={IMMEDIATE: True})
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        leave_writer_queue(session)
        session.info.pop(_IN_UNIT, None)


def _join_writer_queue(session: Session) -> None:
    """Wait for this process's earlier writers to this SQLite file, then go on to BEGIN IMMEDIATE.

    Bounded by the busy timeout: a writer still waiting then gets the same transient "database is locked"
    error SQLite itself would give, at once, so that the unit is retried (or the person asked to send again)
    after one timeout, not after a second one spent at SQLite's lock.
    """
    queue = _writer_queues.get(_queue_key(session.get_bind()))
    if queue is None:
        return
    if not queue.lock.acquire(timeout=queue.timeout_seconds):
        raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))
    session.info[_QUEUED] = queue


def leave_writer_queue(session: Session, *_args) -> None:
    """Let the next writer of this process go: right after the commit (or the rollback)."""
    queue = session.info.pop(_QUEUED, None)
    if queue is not None:
        queue.lock.release()


def is_transient(error: BaseException) -> bool:
    """A lock conflict that the same work, run again, may get through."""
    if not isinstance(error, DBAPIError):
        return False
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in {"40001", "40P01", "55P03"}:  # serialization failure, deadlock, lock not available
        return True
    message = str(error.orig).lower()
    return "database is locked" in message or "database is busy" in message


def retry_pause(attempt: int) -> float:
    # Jittered so that the requests that collided do not collide again in step.
    return min(0.05 * (2**attempt), 0.5) * (0.5 + random.random())


def run_in_unit_of_work(session: Session, work: Callable[[], T], *, attempts: int = 3) -> T:
    """Run `work` in a unit of work, again from the start after a transient lock error.

    For CLI commands and worker steps; requests get the same retry from the dispatcher.
    """
    for attempt in range(attempts):
        try:
            with unit_of_work(session):
                return work()
        except DBAPIError as error:
            if not is_transient(error):
                raise
            if attempt + 1 >= attempts:
                raise DatabaseBusy() from error
            time.sleep(retry_pause(attempt))
    raise AssertionError("unreachable")


# --- locking what a service decides on ----------------------------------------------------------------


def lock_all(session: Session, stmt: Select, *, shared: bool = False) -> list:
    """The rows of `stmt`, locked and re-read, inside the caller's unit of work.

    FOR UPDATE on PostgreSQL, or FOR SHARE with `shared` (many may read-lock a row, as when many comments
    are added while the consultation row must not change under them); on SQLite the IMMEDIATE
    transaction already holds the only write lock.
    """
    require_unit_of_work(session)
    if locks_skipped():
        return list(session.scalars(stmt))
    stmt = stmt.with_for_update(read=shared).execution_options(populate_existing=True)
    return list(session.scalars(stmt))


def lock_one(session: Session, model: type[T], ident: int | None, *, shared: bool = False) -> T | None:
    """One row by primary key, locked and re-read; None when it does not exist."""
    if ident is None:
        return None
    rows = lock_all(session, select(model).where(model.id == ident), shared=shared)
    return rows[0] if rows else None


# --- the control that proves the locks matter (tests only) --------------------------------------------


def locks_skipped() -> bool:
    """Test-only switch: behave like a naive system that checks first and writes later.

    With it, a unit of work takes no lock, and `checks_done` commits what was read and pauses, so two
    requests decide on the same stale state. The concurrency tests turn it on to show that they fail
    without the locks; the app refuses to start with it outside tests (config.check).
    """
    if not has_app_context():
        return False
    config = current_app.config
    return bool(config.get("TESTING_SKIP_LOCKS") or config.get("TESTING_SKIP_CAPACITY_LOCK"))


def checks_done(session: Session) -> None:
    """Services call this between deciding and writing; it does nothing unless the locks are skipped."""
    if locks_skipped():
        session.commit()
        time.sleep(current_app.config.get("TESTING_RACE_WINDOW", 0.05))

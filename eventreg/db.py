"""Engine and session handling: one engine per app, one session per application context.

SQLite is configured so that a write transaction can be started with BEGIN IMMEDIATE (see
`write_transaction`), which is how capacity checks take their lock there; on PostgreSQL the same
services take a row lock with SELECT ... FOR UPDATE.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

IMMEDIATE = "eventreg_sqlite_immediate"


class Base(DeclarativeBase):
    pass


def _normalise_url(url: str) -> str:
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the driver spelled out.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str, **kwargs) -> Engine:
    url = _normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Take transaction control away from the driver so that we decide how BEGIN is spelled.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
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
        engine = make_engine(app.config["DATABASE_URL"], **app.config.get("ENGINE_OPTIONS", {}))
        app.extensions["eventreg.db"] = {
            "engine": engine,
            "sessionmaker": sessionmaker(bind=engine, expire_on_commit=False),
        }
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


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """Run a block as one write transaction that holds the database's write lock from its start.

    On SQLite this is BEGIN IMMEDIATE, so no other writer can slip in between a check and the insert
    that depends on it; on PostgreSQL it is an ordinary transaction and callers lock the rows they
    decide on with FOR UPDATE. Commits on success, rolls back on any error.
    """
    if session.in_transaction():
        # Anything read before now was read outside the lock; finish it so the lock covers the decision.
        session.commit()
    if is_sqlite(session):
        session.connection(execution_options={IMMEDIATE: True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise

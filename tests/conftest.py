"""Fixtures: every test that touches the database runs on SQLite and on PostgreSQL.

PostgreSQL comes from TEST_DATABASE_URL (default: the local server at 127.0.0.1:5432, database `test`).
Each pytest run gets its own schema, so parallel runs never see each other's rows. Without a reachable
server the PostgreSQL variants are skipped with the reason, unless EVENTREG_REQUIRE_SERVICES=1 (CI),
where they fail instead.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from flask.globals import _cv_app
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

import eventreg.models  # noqa: F401  (every table registered before create_all)
from eventreg import create_app
from eventreg.db import Base, _normalise_url
from eventreg.extensions import db

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_SERVICES = os.environ.get("EVENTREG_REQUIRE_SERVICES") == "1"


def _reachable(url: str, default_port: int) -> str | None:
    parsed = urlparse(url)
    try:
        socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2
        ).close()
    except OSError as exc:
        return f"{parsed.hostname}:{parsed.port or default_port} not reachable ({exc})"
    return None


def service_or_skip(name: str, url: str, default_port: int) -> None:
    problem = _reachable(url, default_port)
    if problem:
        message = f"{name} unavailable: {problem}"
        if REQUIRE_SERVICES:
            pytest.fail(message + " (EVENTREG_REQUIRE_SERVICES=1)")
        pytest.skip(message)


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a schema of this test run's own."""
    service_or_skip("PostgreSQL", PG_URL, 5432)
    schema = f"test_{secrets.token_hex(4)}"
    base = _normalise_url(PG_URL)
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    url = f"{base}{separator}options=-csearch_path%3D{schema}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    yield url
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _truncate_all(engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
        engine = create_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        yield url
    else:
        url = request.getfixturevalue("pg_schema_url")
        yield url
        engine = create_engine(url)
        _truncate_all(engine)
        engine.dispose()


class IsolatedClient(FlaskClient):
    """A test client whose every request gets its own application context, as in production.

    Without this, a test holding an app context (the db_session fixture) would share `g` - and with it
    the database session, the cached locale and the logged-in user - with every request it makes.
    """

    def open(self, *args, **kwargs):
        outer = _cv_app.get(None)
        if outer is None or outer.app is not self.application or self.preserve_context:
            # `with client:` keeps the request's contexts alive after it; those nest normally.
            return super().open(*args, **kwargs)
        # The test's own session commits around each request: what it arranged is visible to the
        # request, it holds no lock the request would wait on, and afterwards it reads fresh rows.
        test_session = outer.g.get("db_session")
        if test_session is not None:
            test_session.commit()
        token = _cv_app.set(None)
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)
            if test_session is not None:
                test_session.commit()


def make_test_app(database_url: str, tmp_path, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "BASE_URL": "https://consult.example.kg",
        "MAIL_SERVER": None,
    }
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = IsolatedClient
    app.instance_path = str(tmp_path / "instance")
    return app


@pytest.fixture
def app_config() -> dict:
    """Override to change the app's configuration in one module or test."""
    return {}


@pytest.fixture
def app(database_url, tmp_path, app_config):
    app = make_test_app(database_url, tmp_path, **app_config)
    yield app
    app.extensions["eventreg.db"]["engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db_session(app):
    """The app's database session inside an app context, for arranging and checking rows.

    Requests made with `client` run in their own app context and database session (see
    IsolatedClient), and this session is committed before and after each of them, so it always reads
    what the request changed.
    """
    with app.app_context():
        yield db.session


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(app):
    with LiveServer(app) as server:
        yield server

"""Configuration, migrations, the demo data and the health of the app as a whole."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, func, select, text

from eventreg import create_app
from eventreg.cli import alembic_config
from eventreg.config import ConfigError
from eventreg.db import Base
from eventreg.demo import load_demo_data
from eventreg.models import Consultation, EventSession, Registration


def test_refuses_to_start_without_secret_key_in_production(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("EVENTREG_ENV", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_lock_switch_is_refused_outside_tests(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    with pytest.raises(ConfigError):
        create_app({"TESTING_SKIP_CAPACITY_LOCK": True})


def test_postgres_urls_get_the_psycopg_driver(monkeypatch):
    from eventreg.db import _normalise_url

    assert _normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert _normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert _normalise_url("sqlite:///x.db") == "sqlite:///x.db"


@pytest.fixture
def empty_database_url(request, tmp_path):
    """A database with no tables at all, to run the migrations into."""
    if "postgresql" in request.node.callspec.params.get("backend", ""):
        base = request.getfixturevalue("pg_schema_url")
        schema = "mig_" + tmp_path.name[-8:].replace("-", "_").lower()
        engine = create_engine(base)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = base.split("?")[0] + f"?options=-csearch_path%3D{schema}"
        yield url
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
    else:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrations_build_exactly_the_models(backend, empty_database_url):
    from alembic import command

    engine = create_engine(empty_database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        command.upgrade(
            alembic_config(connection), "heads"
        )  # "heads": branches not yet chained (each area adds one migration on 0001)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_demo_load_is_idempotent_and_has_every_oblast(app, db_session, runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "Demo data loaded" in result.output
    again = runner.invoke(args=["demo", "load"])
    assert "nothing changed" in again.output
    assert db_session.scalar(select(func.count(Consultation.id))) == 1
    sessions = list(db_session.scalars(select(EventSession)))
    regions = {s.region for s in sessions if s.kind == "regional"}
    assert regions == {"KG-B", "KG-J", "KG-Y", "KG-N", "KG-O", "KG-T", "KG-C"}
    assert {s.kind for s in sessions} == {"regional", "working_group", "civil_society", "online"}
    for s in sessions:
        assert all(s.title.get(lang) for lang in ("ru", "ky", "en")), s.slug
        assert all(s.venue.get(lang) for lang in ("ru", "ky", "en")), s.slug
    meeting = next(s for s in sessions if s.kind == "working_group")
    assert "Sheraton" in meeting.venue["en"]
    # the dashboards have people to count: every session has registrations, one has a waiting list
    statuses = dict(
        db_session.execute(
            select(Registration.status, func.count(Registration.id)).group_by(Registration.status)
        ).all()
    )
    assert statuses["confirmed"] > 100 and statuses["waitlisted"] == 3
    assert {r.session_id for r in db_session.scalars(select(Registration))} == {s.id for s in sessions}


def test_demo_is_loaded_only_into_an_empty_database(app, db_session, runner):
    assert "demo data loaded" in runner.invoke(args=["demo", "load-if-empty"]).output
    assert "not loaded" in runner.invoke(args=["demo", "load-if-empty"]).output
    assert load_demo_data(db_session) is False


def test_health_check(client):
    assert client.get("/healthz").get_json() == {
        "status": "ok",
        "database": "ok",
        "rate_limit_store": "per-process",
    }


def test_every_public_page_is_small_and_script_free(client, db_session, runner):
    runner.invoke(args=["demo", "load"])
    slug = db_session.scalar(select(EventSession.slug).where(EventSession.kind == "regional"))
    for path in ("/ru/sessions", f"/ky/sessions/{slug}", "/en/privacy"):
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "<script" not in html
        assert "http://" not in html.replace("http://localhost", "") and "https://" not in html
        assert len(response.data) < 60_000, path


def test_security_headers_and_private_personal_pages(client, db_session):
    from tests.factories import make_event_session
    from tests.registration.test_registration import register

    event = make_event_session(db_session)
    listing = client.get("/ru/")
    assert "script-src 'none'" in listing.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in listing.headers["Content-Security-Policy"]
    assert listing.headers["X-Content-Type-Options"] == "nosniff"
    assert listing.headers["Referrer-Policy"] == "same-origin"  # the token never leaves in a Referer
    personal = client.get(register(client, event.slug).headers["Location"])
    assert personal.status_code == 200
    assert "no-store" in personal.headers["Cache-Control"]
    assert personal.headers["X-Robots-Tag"] == "noindex"

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


def _row(table, **values):
    """`values`, plus a plausible value for every other required column of a reflected table."""
    from datetime import UTC, datetime

    from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text

    for column in table.columns:
        if column.name in values or column.nullable or column.primary_key:
            continue
        kind = column.type
        if isinstance(kind, Boolean):
            values[column.name] = False
        elif isinstance(kind, Integer):
            values[column.name] = 1
        elif isinstance(kind, DateTime) or "date" in column.name or column.name.endswith("_at"):
            values[column.name] = datetime(2021, 10, 12, tzinfo=UTC)
        elif isinstance(kind, JSON) or "JSON" in type(kind).__name__:
            values[column.name] = {"ru": "x"}
        elif isinstance(kind, String | Text):
            values[column.name] = "x"
    return values


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_decision_part_migration_keeps_the_text_under_the_comments_language(backend, empty_database_url):
    """0008 turns the one-string part accepted into per-language texts, and back on downgrade.

    Through the app's own engine and commands, so SQLite enforces foreign keys as in production: the
    comments table is rebuilt there while a decision history and a merged duplicate point at it.
    """
    from sqlalchemy import MetaData

    from eventreg.cli import downgrade_database, upgrade_database
    from eventreg.db import make_engine

    engine = make_engine(empty_database_url)
    upgrade_database("0007_place_holds", engine)
    with engine.begin() as connection:
        meta = MetaData()
        meta.reflect(connection)
        t = meta.tables
        connection.execute(t["consultations"].insert(), _row(t["consultations"], id=1, slug="c"))
        connection.execute(t["documents"].insert(), _row(t["documents"], id=1, consultation_id=1, key="d"))
        for comment_id, language, part in [(1, "ky", "Биринчи сүйлөм"), (2, "ru", None), (3, "en", "  ")]:
            connection.execute(
                t["comments"].insert(),
                _row(
                    t["comments"],
                    id=comment_id,
                    document_id=1,
                    language=language,
                    decision="partly_accepted" if part else None,
                    decision_part=part,
                    justification={},
                ),
            )
        connection.execute(  # the same comment received again, merged into the first
            t["comments"].insert(),
            _row(t["comments"], id=4, document_id=1, language="ky", status="merged", duplicate_of_id=1),
        )
        connection.execute(
            t["comment_decision_changes"].insert(),
            _row(
                t["comment_decision_changes"],
                id=1,
                comment_id=1,
                decision="partly_accepted",
                decision_part="Биринчи сүйлөм",
                justification={},
            ),
        )
    upgrade_database("0008_decision_part_languages", engine)
    with engine.begin() as connection:
        parts = dict(connection.execute(text("SELECT id, decision_part FROM comments ORDER BY id")).all())
        history = connection.execute(text("SELECT decision_part FROM comment_decision_changes")).scalar()
    import json

    def loaded(value):
        return json.loads(value) if isinstance(value, str) else value

    assert {k: loaded(v) for k, v in parts.items()} == {1: {"ky": "Биринчи сүйлөм"}, 2: {}, 3: {}, 4: {}}
    assert loaded(history) == {"ky": "Биринчи сүйлөм"}

    with engine.begin() as connection:
        connection.execute(
            text("UPDATE comments SET decision_part = :p WHERE id = 2"), {"p": '{"en": "Part"}'}
        )
    downgrade_database("0007_place_holds", engine)
    with engine.begin() as connection:
        parts = dict(connection.execute(text("SELECT id, decision_part FROM comments ORDER BY id")).all())
        history = connection.execute(text("SELECT decision_part FROM comment_decision_changes")).scalar()
        duplicate_of = connection.execute(text("SELECT duplicate_of_id FROM comments WHERE id = 4")).scalar()
    engine.dispose()
    assert parts == {1: "Биринчи сүйлөм", 2: "Part", 3: None, 4: None}
    assert duplicate_of == 1
    assert history == "Биринчи сүйлөм"

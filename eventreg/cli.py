"""Command-line tools: `flask --app app db upgrade`, `demo load`, and the rest."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import Connection, Engine

from eventreg.config import PROJECT_ROOT
from eventreg.db import run_in_unit_of_work
from eventreg.extensions import db

db_cli = AppGroup("db", help="Database migrations.")
demo_cli = AppGroup("demo", help="Demo data.")


def alembic_config(connection=None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@contextmanager
def _migration_connection(engine: Engine | None = None) -> Iterator[Connection]:
    """One transaction for the migrations. On SQLite, foreign keys are off while they run and checked at the end.

    SQLite alters most columns by rebuilding the table (Alembic's batch mode), and dropping the old copy of a
    table that others refer to (comments, with their decision history and merged duplicates) fails while
    foreign keys are enforced. The pragma only takes effect outside a transaction, so it is set on the driver's
    connection before BEGIN; before the commit, `foreign_key_check` proves nothing was left dangling.
    """
    engine = engine or db.engine
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                yield connection
                if sqlite:
                    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if dangling:
                        raise RuntimeError(f"the migration left rows pointing nowhere: {dangling[:5]}")
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


def upgrade_database(revision: str = "head", engine: Engine | None = None) -> None:
    with _migration_connection(engine) as connection:
        command.upgrade(alembic_config(connection), revision)


def downgrade_database(revision: str, engine: Engine | None = None) -> None:
    with _migration_connection(engine) as connection:
        command.downgrade(alembic_config(connection), revision)


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    upgrade_database(revision)
    click.echo(f"Database is at {revision}.")


@db_cli.command("downgrade")
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Undo migrations down to REVISION (take a backup first)."""
    downgrade_database(revision)
    click.echo(f"Database is at {revision}.")


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def revision(message: str) -> None:
    """Draft a migration from the models; read and edit it before committing."""
    with db.engine.begin() as connection:
        command.revision(alembic_config(connection), message=message, autogenerate=True)


@demo_cli.command("load")
def load_demo() -> None:
    """Load the demo consultation (safe to run again: nothing is duplicated)."""
    from eventreg.demo import load_demo_data

    created = run_in_unit_of_work(db.session, lambda: load_demo_data(db.session))
    click.echo("Demo data loaded." if created else "Demo data already present; nothing changed.")


@demo_cli.command("load-if-empty")
def load_demo_if_empty() -> None:
    """Load the demo only into a database with no consultation yet (used by `make run`)."""
    from eventreg.demo import database_is_empty, load_demo_data

    if database_is_empty(db.session):
        run_in_unit_of_work(db.session, lambda: load_demo_data(db.session))
        click.echo("Empty database: demo data loaded.")
    else:
        click.echo("Database has data; demo not loaded.")


def init_app(app: Flask) -> None:
    # Listed explicitly: a renamed module fails loudly at start-up instead of silently losing commands.
    from eventreg.accounts import cli as accounts_cli
    from eventreg.consultation import cli as consultation_cli
    from eventreg.evaluation import cli as evaluation_cli
    from eventreg.mail import cli as mail_cli
    from eventreg.privacy import cli as privacy_cli

    app.cli.add_command(db_cli)
    app.cli.add_command(demo_cli)
    for module in (consultation_cli, accounts_cli, mail_cli, privacy_cli, evaluation_cli):
        module.init_app(app)


__all__ = ["current_app", "downgrade_database", "init_app", "upgrade_database"]

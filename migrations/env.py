"""Alembic environment: runs against the app's engine, or a connection handed in by the caller."""

from __future__ import annotations

from alembic import context

from eventreg.models import Base

config = context.config
target_metadata = Base.metadata


def _engine():
    connection = config.attributes.get("connection")
    if connection is not None:
        return connection
    from eventreg import create_app
    from eventreg.db import make_engine

    app = create_app()
    return make_engine(app.config["DATABASE_URL"])


def run_migrations_offline() -> None:
    from eventreg import create_app

    context.configure(
        url=create_app().config["DATABASE_URL"],
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    bind = _engine()
    if hasattr(bind, "connect") and not hasattr(bind, "execute"):
        with bind.connect() as connection:
            _run(connection)
    else:
        _run(bind)


def _run(connection) -> None:
    # Batch mode lets ALTER TABLE work on SQLite, which cannot alter most things in place.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

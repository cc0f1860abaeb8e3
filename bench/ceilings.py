"""The two ceilings the app is measured against, served by the same gunicorn command as the app.

- `page_app`: a bare Flask app rendering a ~4.5 KB Jinja page (no database, session, CSRF or translation):
  the most a public page can hope for on this machine.
- `insert_app`: a bare Flask + SQLAlchemy app inserting one row a POST into BENCH_CEILING_DATABASE_URL
  (SQLite in WAL mode, or PostgreSQL) and answering 303: the most a form POST can hope for.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, redirect, render_template, request
from sqlalchemy import DateTime, String, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

HERE = Path(__file__).resolve().parent

page_app = Flask("page_ceiling", template_folder=str(HERE / "templates"))

CARDS = [
    {
        "title": f"Региональная консультация {n}: Баткенская область",
        "when": "пятница, 18 декабря 2026 г., 10:00–16:00 (по времени Бишкека, UTC+6)",
        "venue": "Баткен, зал заседаний областной администрации",
        "places": 40 - n,
    }
    for n in range(6)
]


@page_app.get("/")
def page():
    return render_template("ceiling.html", cards=CARDS)


class Base(DeclarativeBase):
    pass


class Row(Base):
    __tablename__ = "ceiling_rows"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _engine(url: str):
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if not url.startswith("sqlite"):
        return create_engine(url)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def wal(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    return engine


insert_app = Flask("insert_ceiling")
_insert_engine = None


def _get_engine():
    global _insert_engine
    if _insert_engine is None:
        _insert_engine = _engine(os.environ["BENCH_CEILING_DATABASE_URL"])
    return _insert_engine


@insert_app.post("/")
def insert():
    with Session(_get_engine()) as session, session.begin():
        session.add(Row(name=request.form.get("name", ""), created_at=datetime.now(UTC)))
    return redirect("/", code=303)


def create_tables(url: str) -> None:
    engine = _engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()

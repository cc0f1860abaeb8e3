"""Benchmarks, never tests: `python -m bench.run [web|scaleout|reports|all]`.

`make bench` runs web and scaleout (about five minutes); `make bench-reports` runs reports.

- web: the app under Procfile's gunicorn on loopback, on SQLite and PostgreSQL, beside two ceilings
  measured in the same run (a bare Flask page, a bare Flask + SQLAlchemy insert): requests per second,
  p50 and p99 of the public pages and the two form POSTs, each as a ratio to its ceiling (bench/web.py).
- scaleout: two instances on PostgreSQL and Redis, bursts split across them, two mail workers at once
  (bench/scaleout.py).
- reports: the reports on a 100,000-comment consultation. For SQLite (a temporary file) and, when
  reachable, PostgreSQL (in a schema of its own, dropped after), it times each dashboard query set and
  each export and measures its peak Python memory (tracemalloc), beside two ceilings: a bare SELECT of
  the same comment rows, and a bare Flask app answering one dashboard request with the same queries but
  no login, template or translation. Ratios say how far each export is from its ceiling.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, g
from sqlalchemy import create_engine, text

from eventreg import create_app
from eventreg.db import Base, _normalise_url
from eventreg.extensions import db
from eventreg.models import User

from . import data

PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
# python-docx holds the whole document in memory and is slow per row, so the DOCX line writes a date range
# of about this many comments. The summary workbook is not timed on its own: it is the comments XLSX's
# writer plus a few small breakdown sheets. Times are measured under tracemalloc, which slows pure-Python
# work (the XLSX and DOCX writers most) by several times; ratios compare like with like.
DOCX_LIMIT = 5_000
PROGRESS = __name__ == "__main__"  # python-docx holds the whole document in memory; see the DOCX line's note


@dataclass
class Line:
    name: str
    seconds: float
    peak_mb: float
    rows: int
    ceiling: str | None = None


def measure(name: str, work: Callable[[], int], ceiling: str | None = None) -> Line:
    tracemalloc.start()
    started = time.perf_counter()
    rows = work()
    seconds = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    line = Line(name, seconds, peak / 1024 / 1024, rows, ceiling)
    if PROGRESS:
        print(f"  … {name}: {seconds:.2f}s", flush=True)
    return line


def _drain(chunks) -> int:
    return sum(len(chunk) for chunk in chunks)


def _app(url: str) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": secrets.token_hex(16),
            "DATABASE_URL": url,
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "BASE_URL": "https://consult.example.kg",
            "MAIL_SERVER": None,
        }
    )


def _bare_flask(url: str) -> Flask:
    """The ceiling for a dashboard request: the same queries, answered as JSON, nothing else."""
    from eventreg.extensions import babel
    from eventreg.reports import queries

    app = Flask("bare")
    app.config.update(DATABASE_URL=url, LANGUAGES={"ru": "", "ky": "", "en": ""})
    db.init_app(app)
    babel.init_app(app)

    @app.get("/feedback")
    def feedback():
        g.lang = "en"
        tables = queries.feedback_tables(db.session, queries.Filters())
        return {t.key: [list(row[1:]) for row in t.rows] for t in tables}

    return app


def _logged_in_client(app: Flask):
    from flask_login.utils import _create_identifier

    with app.app_context():
        user = User(email=f"bench-{secrets.token_hex(4)}@example.kg", password_hash="-", role="analyst")  # noqa: S106 - never used to log in
        db.session.add(user)
        db.session.commit()
        user_id = f"{user.id}:{user.session_version}"
    client = app.test_client()
    with app.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as session:
        session.update({"_user_id": user_id, "_fresh": True, "_id": identifier})
    return client


def run_database(
    url: str, comments: int = 100_000, registrations: int = 20_000, full: bool = True
) -> list[Line]:
    """Generate the data in `url`, then measure. `full=False` keeps to the SQL-bound lines (for PostgreSQL)."""
    from eventreg.reports import exports, queries

    engine = create_engine(_normalise_url(url))
    Base.metadata.create_all(engine)
    engine.dispose()
    app = _app(url)
    lines: list[Line] = []
    with app.app_context():
        started = time.perf_counter()
        document = data.generate(db.session, comments, registrations)
        lines.append(Line("generate data", time.perf_counter() - started, 0.0, comments + registrations))
        everything = queries.Filters()
        one_document = queries.Filters(document_id=document.id)

    with app.test_request_context("/en/reports/"):
        g.lang = "en"
        session = db.session

        def bare_select() -> int:
            stmt = queries._comment_list_select(everything).execution_options(yield_per=queries.STREAM_BATCH)
            return sum(1 for _row in session.execute(stmt))

        def dashboards() -> int:
            tables = queries.participation_tables(session, everything, unique=True)
            tables += queries.feedback_tables(session, everything, "week")
            queries.totals(session, everything)
            return len(tables)

        def comments_csv() -> int:
            table = queries.comment_list(session, everything, contacts=True, lang="en")
            _drain(exports.csv_stream(table))
            return _count(session, everything)

        def comments_xlsx() -> int:
            exports.xlsx_file([queries.comment_list(session, everything, contacts=True, lang="en")]).close()
            return _count(session, everything)

        def participants_csv() -> int:
            _drain(
                exports.csv_stream(queries.registration_list(session, everything, contacts=True, lang="en"))
            )
            return registrations

        def participants_xlsx() -> int:
            tables = [
                queries.registration_list(session, everything, contacts=True, lang="en"),
                *queries.participation_tables(session, everything),
            ]
            exports.xlsx_file(tables).close()
            return registrations

        lines.append(measure("bare SELECT (comments)", bare_select))
        lines.append(measure("dashboard queries", dashboards))
        lines.append(measure("comments CSV", comments_csv, ceiling="bare SELECT (comments)"))
        lines.append(measure("participants CSV", participants_csv))
        if full and comments > 1000:
            lines.append(measure("comments XLSX", comments_xlsx, ceiling="bare SELECT (comments)"))
            lines.append(measure("participants XLSX", participants_xlsx))
        if full and comments > 1000:
            docx_filter = _docx_subset(session, one_document, DOCX_LIMIT)
            lines.append(
                measure(
                    f"comments DOCX (date range of ~{DOCX_LIMIT:,})",
                    lambda: _docx(session, docx_filter, document, exports),
                )
            )

    if comments > 1000:
        bare = _bare_flask(url).test_client()
        real = _logged_in_client(app)
        lines.append(measure("bare Flask dashboard request", lambda: _get(bare, "/feedback")))
        lines.append(
            measure(
                "real dashboard request",
                lambda: _get(real, "/en/reports/feedback"),
                "bare Flask dashboard request",
            )
        )
    app.extensions["eventreg.db"]["engine"].dispose()
    return lines


def _count(session, filters) -> int:
    from sqlalchemy import func, select

    from eventreg.models import Comment
    from eventreg.reports.queries import comment_conditions

    return session.scalar(select(func.count(Comment.id)).where(*comment_conditions(filters)))


def _docx_subset(session, filters, limit: int):
    """A date range holding about `limit` comments, so the DOCX line stays within the time budget."""
    from dataclasses import replace

    from sqlalchemy import select

    from eventreg.models import Comment
    from eventreg.reports.queries import BISHKEK, comment_conditions

    stmt = select(Comment.created_at).where(*comment_conditions(filters)).order_by(Comment.created_at)
    last = session.scalars(stmt.offset(limit).limit(1)).first()
    if last is None:
        return filters
    return replace(filters, date_to=last.astimezone(BISHKEK).date())


def _docx(session, filters, document, exports) -> int:
    exports.comments_docx(session, filters, document, "en").close()
    return _count(session, filters)


def _get(client, path: str) -> int:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return len(response.get_data())


def _pg_reachable() -> bool:
    from .web import reachable

    return reachable(PG_URL, 5432)


def _print(title: str, lines: list[Line]) -> None:
    by_name = {line.name: line for line in lines}
    print(f"\n{title}", flush=True)
    print(f"{'':2}{'what':42} {'rows':>9} {'seconds':>9} {'peak MB':>9}  ratio to ceiling")
    for line in lines:
        ratio = ""
        if line.ceiling and line.ceiling in by_name and by_name[line.ceiling].seconds > 0:
            base = by_name[line.ceiling]
            ratio = f"×{line.seconds / base.seconds:.1f} time, ×{line.peak_mb / max(base.peak_mb, 0.01):.1f} memory"
        print(
            f"  {line.name:42} {line.rows:>9,} {line.seconds:>9.2f} {line.peak_mb:>9.1f}  {ratio}", flush=True
        )


def reports(args) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        _print(f"SQLite, {args.comments:,} comments", run_database(url, args.comments, args.registrations))

    if args.no_postgres or not _pg_reachable():
        print("\nPostgreSQL: skipped (not reachable at BENCH_DATABASE_URL or --no-postgres)")
        return
    with _pg_schema() as url:
        lines = run_database(url, args.comments, args.registrations, full=False)
        _print(f"PostgreSQL, {args.comments:,} comments (the SQL-bound lines)", lines)


@contextmanager
def _pg_schema():
    """A PostgreSQL URL whose search_path is a new schema, dropped afterwards."""
    schema = f"bench_{secrets.token_hex(4)}"
    base = _normalise_url(PG_URL)
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        separator = "&" if "?" in base else "?"
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _plain_pg_url(url: str) -> str:
    # The app and gunicorn get the URL as configured in production (postgresql://…).
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def web_table(args) -> None:
    from . import web

    web.SECONDS = args.seconds
    print(
        f"\nThe app under load: {web.server_mode()[0]}, {web.CONNECTIONS} connections "
        f"on loopback, {args.seconds:g} s a line, {os.cpu_count()} cores",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        print("  … page ceiling", flush=True)
        page = web.page_ceiling(folder)
        lines = [web.Line(page, "-")]
        lines += web.run_database("SQLite", f"sqlite:///{folder / 'app.sqlite3'}", folder, page)
        if args.no_postgres or not _pg_reachable():
            print("  PostgreSQL: skipped (not reachable at BENCH_DATABASE_URL or --no-postgres)")
        else:
            with _pg_schema() as url:
                lines += web.run_database("PostgreSQL", _plain_pg_url(url), folder, page)
        print()
        web.print_table(lines)
        print(
            "  ratio: public pages to the page ceiling, POSTs to the insert ceiling on the same database;"
            " targets ≥0.50 and ≥0.33, p99 ≤ 3×p50, no 5xx"
        )


def scaleout(args) -> None:
    from . import scaleout as scenario

    print("\nScale-out: two instances on PostgreSQL + Redis, PROXY_FIX_X_FOR=1, two mail workers", flush=True)
    if args.no_postgres or not _pg_reachable():
        print("  skipped: PostgreSQL not reachable at BENCH_DATABASE_URL (or --no-postgres)")
        return
    with tempfile.TemporaryDirectory() as folder, _pg_schema() as url:
        counts = scenario.run(_plain_pg_url(url), Path(folder))
    for line in counts.lines:
        print(f"  {line}")
    print("  " + ("all as expected" if not counts.problems else "PROBLEMS: " + "; ".join(counts.problems)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "what", nargs="?", default="app", choices=["app", "web", "scaleout", "reports", "all"]
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per web line")
    parser.add_argument(
        "--comments", type=int, help="reports: comments to generate (100,000 alone, 10,000 with all)"
    )
    parser.add_argument("--registrations", type=int, help="reports: registrations (10,000; 2,000 with all)")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    # `make bench` (all) stays within about five minutes; `bench.run reports` measures the full size.
    alone = args.what == "reports"
    args.comments = args.comments or (100_000 if alone else 10_000)
    args.registrations = args.registrations or (10_000 if alone else 2_000)
    logging.getLogger().setLevel(logging.WARNING)  # the app's INFO lines would bury the tables
    started = time.perf_counter()
    if args.what in ("all", "app", "web"):
        web_table(args)
    if args.what in ("all", "app", "scaleout"):
        scaleout(args)
    if args.what in ("all", "reports"):
        reports(args)
    print(f"\nbench: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

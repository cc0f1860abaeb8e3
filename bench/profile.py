"""Where a request's time goes, in process: `python -m bench.profile [PATH] [--requests N] [--cache]`.

Loads the demo into a temporary SQLite database (or `--database URL`, e.g. an empty PostgreSQL database),
requests PATH (default the session list) through the test client as new anonymous visitors, and prints
the time per request and cProfile's top functions. The page cache is off unless --cache is given, so the
profile shows the rendering itself.

`--post registration` or `--post comment` profiles the two public form POSTs of the benchmark instead:
visitors open the form (not measured), then send it with their CSRF token and session cookie, each from
its own address, with the rate limits on. It also measures how long each request holds the write lock:
from the start of its unit of work (BEGIN IMMEDIATE on SQLite; on PostgreSQL the transaction whose first
statement takes the row lock) to its commit.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import pstats
import tempfile
import time
from pathlib import Path

# (label, file name ends with, function): the lines the profile named, before and after.
FOCUS = [
    ("render_template (all template rendering)", "flask/templating.py", "render_template"),
    ("session-meta macro, per card", "_session_meta.html", "macro"),
    ("session_when (date and time of a card)", "eventreg/i18n.py", "session_when"),
    ("Babel date/time formatting", "babel/dates.py", "format_date"),
    ("Flask-Babel: request context lookups", "flask_babel/__init__.py", "_get_current_context"),
    ("Flask-Babel: catalogue lookups", "flask_babel/__init__.py", "get_translations"),
    ("Jinja i18n gettext wrappers", "jinja2/ext.py", "_gettext_alias"),
    ("eventreg gettext in templates", "eventreg/i18n.py", "_template_gettext"),
    ("SQL (ORM execute)", "sqlalchemy/orm/session.py", "_execute_internal"),
    ("page cache: answer from the cache", "eventreg/page_cache.py", "answer_from_cache"),
]
# The lines that matter for the two form POSTs.
POST_FOCUS = [
    ("form validation (all fields)", "eventreg/forms.py", "validate"),
    ("  CSRF token check", "flask_wtf/csrf.py", "validate_csrf"),
    ("rate limiter", "flask_limiter/extension.py", "_check_request_limit"),
    ("register_participant (under the lock)", "eventreg/registration/services.py", "register_participant"),
    ("create_comment (under the lock)", "eventreg/consultation/services.py", "create_comment"),
    ("  mail: render txt + html", "eventreg/mail/notify.py", "_render"),
    ("  mail: calendar file", "eventreg/mail/notify.py", "_calendar_attachment"),
    ("  mail: queue the row (enqueue)", "eventreg/mail/outbox.py", "enqueue"),
    ("  availability counts", "eventreg/registration/availability.py", "for_sessions"),
    ("  waiting-list position", "eventreg/registration/availability.py", "waitlist_position"),
    ("  release expired holds", "eventreg/registration/services.py", "release_expired_holds"),
    ("commit", "sqlalchemy/orm/session.py", "commit"),
    ("SQL (ORM execute)", "sqlalchemy/orm/session.py", "_execute_internal"),
    ("flush", "sqlalchemy/orm/session.py", "flush"),
    ("page cache: tell the workers (stamp file)", "eventreg/page_cache.py", "written"),
    ("render_template (the mail's txt and html)", "flask/templating.py", "render_template"),
]


class LockClock:
    """Time from the start of each unit of work to its end (commit or rollback), in process, and the SQL
    statements sent inside and outside it (a count that, unlike milliseconds, does not depend on load)."""

    def __init__(self, factory, engine) -> None:
        from sqlalchemy import event

        from eventreg.db import _IN_UNIT

        self.held: list[float] = []
        self._started: float | None = None
        self.statements = {"under the lock": 0, "outside it": 0}

        def statement(*_args) -> None:
            self.statements["under the lock" if self._started is not None else "outside it"] += 1

        event.listen(engine, "before_cursor_execute", statement)

        def begun(session, _transaction, _connection) -> None:
            if session.info.get(_IN_UNIT) and self._started is None:
                self._started = time.perf_counter()

        def ended(session, *_args) -> None:
            if self._started is not None:
                self.held.append(time.perf_counter() - self._started)
                self._started = None

        event.listen(factory, "after_begin", begun)
        # Before the app's own after-commit work (the page cache's stamp file), which runs after the lock.
        event.listen(factory, "after_commit", ended, insert=True)
        event.listen(factory, "after_rollback", ended, insert=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default="/ru/")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--cache", action="store_true", help="keep the page cache on (2 s)")
    parser.add_argument("--post", choices=["registration", "comment"], help="profile a form POST instead")
    parser.add_argument("--database", help="an empty database to use instead of a temporary SQLite file")
    parser.add_argument(
        "--confirmed",
        action="store_true",
        help="registration: room for everyone, so each gets a confirmation with its calendar file",
    )
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    logging.getLogger().setLevel(logging.WARNING)

    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{Path(folder) / 'profile.sqlite3'}"
        if args.post:
            profile, per_request, path, clock = _profile_post(url, args)
        else:
            profile, per_request, path = _profile_get(url, args)
            clock = None

    stats = pstats.Stats(profile)
    calls = stats.total_calls / args.requests
    print(f"{path}: {per_request:.2f} ms a request without the profiler ({args.requests} requests)")
    if clock is not None:
        held = sum(clock.held) / max(len(clock.held), 1) * 1000
        print(
            f"write lock held {held:.2f} ms a request ({held / per_request:.0%} of the request), "
            f"{len(clock.held) / args.requests:.2f} units of work a request"
        )
        counts = ", ".join(f"{n / args.requests:.1f} {where}" for where, n in clock.statements.items())
        print(f"SQL statements a request (BEGIN and COMMIT not counted): {counts}")
    print(f"{calls:,.0f} Python function calls a request (does not depend on the machine's load)")
    total = stats.total_tt
    print(
        f"\nWhere the time goes (cumulative, share of {total / args.requests * 1000:.1f} ms a request under the profiler):"
    )
    for label, file_end, function in POST_FOCUS if args.post else FOCUS:
        rows = [
            (row[1], row[3])
            for (filename, _line, name), row in stats.stats.items()
            if name == function and filename.endswith(file_end)
        ]
        if rows:
            ncalls = sum(r[0] for r in rows) / args.requests
            cumulative = sum(r[1] for r in rows)
            print(f"  {label:48} {ncalls:7.1f} calls {cumulative / total:6.0%}")
    print()
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).strip_dirs().sort_stats(order)
        stats.print_stats(args.top)
        text = out.getvalue()
        print(text[text.index("   ncalls") :] if "   ncalls" in text else text)


def _profile_get(url: str, args):
    from eventreg import create_app

    from .web import prepare_database

    paths = prepare_database(url)
    path = args.path.replace("{consultation}", paths["consultation"]).replace("{document}", paths["document"])
    app = create_app(
        {
            "SECRET_KEY": "profile",
            "DATABASE_URL": url,
            "RATELIMIT_ENABLED": False,
            "PAGE_CACHE_SECONDS": 2 if args.cache else 0,
        }
    )

    def visit() -> None:
        response = app.test_client().get(path)
        assert response.status_code == 200, response.status_code

    for _ in range(20):
        visit()
    started = time.perf_counter()
    for _ in range(args.requests):
        visit()
    per_request = (time.perf_counter() - started) / args.requests * 1000
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.requests):
        visit()
    profile.disable()
    app.extensions["eventreg.db"]["engine"].dispose()
    return profile, per_request, path


def _profile_post(url: str, args):
    """The benchmark's POST scenario in process: same forms, same session (40 places, then waiting)."""
    import itertools

    from eventreg import create_app

    from . import web
    from .load import csrf_token

    paths = web.prepare_database(url)
    if args.post == "registration":
        path = f"/ru/sessions/{paths['burst']}"
        make_form = web._registration_form
    else:
        items = paths["items"]
        path = f"/ru/consultation/{paths['consultation']}/{paths['document']}/items/{items[len(items) // 2]}/comment"
        make_form = web._comment_form
    app = create_app(
        {
            "SECRET_KEY": "profile",
            "DATABASE_URL": url,
            "BASE_URL": "http://127.0.0.1",
            "RATELIMIT_STORAGE_URI": "memory://",
            "PAGE_CACHE_SECONDS": 10,  # as deployed: every write tells the workers to empty their copies
        }
    )
    if args.confirmed:
        from sqlalchemy import update

        from eventreg.extensions import db
        from eventreg.models import EventSession

        with app.app_context():
            db.session.execute(
                update(EventSession).where(EventSession.id == paths["burst_id"]).values(capacity=100_000)
            )
            db.session.commit()
    clock = LockClock(app.extensions["eventreg.db"]["sessionmaker"], app.extensions["eventreg.db"]["engine"])
    addresses = (f"127.2.{n // 250}.{n % 250 + 1}" for n in itertools.count())
    numbers = itertools.count()

    def visitor():
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = next(addresses)
        token = csrf_token(client.get(path).data)
        return client, token

    def send(visitor_and_token) -> None:
        client, token = visitor_and_token
        response = client.post(path, data=make_form(next(numbers), token))
        assert response.status_code == 303, response.status_code

    # Like the benchmark: 32 visitors each send the form again and again (new person, same cookie).
    visitors = [visitor() for _ in range(32)]
    for n in range(20):
        send(visitors[n % 32])
    clock.held.clear()
    clock.statements = dict.fromkeys(clock.statements, 0)
    started = time.perf_counter()
    for n in range(args.requests):
        send(visitors[n % 32])
    per_request = (time.perf_counter() - started) / args.requests * 1000
    held, statements = list(clock.held), dict(clock.statements)
    profile = cProfile.Profile()
    profile.enable()
    for n in range(args.requests):
        send(visitors[n % 32])
    profile.disable()
    clock.held, clock.statements = held, statements
    app.extensions["eventreg.db"]["engine"].dispose()
    return profile, per_request, f"POST {path} ({args.post})", clock


if __name__ == "__main__":
    main()

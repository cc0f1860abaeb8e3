"""Where a page's time goes, in process: `python -m bench.profile [PATH] [--requests N] [--cache]`.

Loads the demo into a temporary SQLite database, requests PATH (default the session list) through the
test client as new anonymous visitors, and prints the time per request and cProfile's top functions.
The page cache is off unless --cache is given, so the profile shows the rendering itself.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default="/ru/")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--cache", action="store_true", help="keep the page cache on (2 s)")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    logging.getLogger().setLevel(logging.WARNING)

    from eventreg import create_app

    from .web import prepare_database

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'profile.sqlite3'}"
        paths = prepare_database(url)
        path = args.path.replace("{consultation}", paths["consultation"]).replace(
            "{document}", paths["document"]
        )
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

    stats = pstats.Stats(profile)
    calls = stats.total_calls / args.requests
    print(f"{path}: {per_request:.2f} ms a request without the profiler ({args.requests} requests)")
    print(f"{calls:,.0f} Python function calls a request (does not depend on the machine's load)")
    total = stats.total_tt
    print(
        f"\nWhere the time goes (cumulative, share of {total / args.requests * 1000:.1f} ms a request under the profiler):"
    )
    for label, file_end, function in FOCUS:
        rows = [
            (row[1], row[3])
            for (filename, _line, name), row in stats.stats.items()
            if name == function and filename.endswith(file_end)
        ]
        if rows:
            ncalls = sum(r[0] for r in rows) / args.requests
            cumulative = sum(r[1] for r in rows)
            print(f"  {label:48} {ncalls:7.0f} calls {cumulative / total:6.0%}")
    print()
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).strip_dirs().sort_stats(order)
        stats.print_stats(args.top)
        text = out.getvalue()
        print(text[text.index("   ncalls") :] if "   ncalls" in text else text)


if __name__ == "__main__":
    main()

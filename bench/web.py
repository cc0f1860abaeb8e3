"""The app under load, beside its two ceilings, on SQLite and PostgreSQL (`python -m bench.run web`).

Every server is started with the Procfile's `web` command (gunicorn, WEB_CONCURRENCY=2 sync workers),
bound to 127.0.0.1 instead of 0.0.0.0, and stopped at the end. Several workers need a shared rate-limit
store (gunicorn.conf.py), so the app counts its limits in Redis, as in production; without Redis every
server, ceilings included, runs the embedded default instead (one worker, 8 threads) and the run says so. The app runs on the demo data, migrated
with Alembic like a real deployment. Ratios: public pages against the bare page ceiling, POSTs against
the bare insert ceiling measured on the same database.
"""

from __future__ import annotations

import functools
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import load
from .load import Request

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 16
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
WORKERS = 2
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def reachable(url: str, default_port: int) -> bool:
    """Whether a service (PostgreSQL, Redis) answers at the host and port of its URL."""
    from urllib.parse import urlparse

    parsed = urlparse(url)
    try:
        socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2
        ).close()
    except OSError:
        return False
    return True


@functools.cache
def server_mode() -> tuple[str, dict]:
    """How every server of a run is started: a line for the table's heading, and its environment.

    Decided once, when the first server starts (not on import), so a run never mixes the two."""
    if reachable(REDIS_URL, 6379):
        return (
            f"Procfile's gunicorn, {WORKERS} sync workers, rate limits counted in Redis",
            {
                "WEB_CONCURRENCY": str(WORKERS),
                "WEB_THREADS": "1",
                "RATELIMIT_STORAGE_URI": REDIS_URL,
                "RATELIMIT_KEY_PREFIX": f"bench-{secrets.token_hex(4)}",
            },
        )
    return (
        f"Procfile's gunicorn, 1 worker with 8 threads (no Redis at {REDIS_URL}: rate limits in memory)",
        {"WEB_CONCURRENCY": "1", "WEB_THREADS": "8", "RATELIMIT_STORAGE_URI": "memory://"},
    )


PAGE_TARGET = 0.5
POST_TARGET = 0.33


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def procfile_web_command() -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.split(":", 1)[1].strip()
    raise RuntimeError("Procfile has no web process")


class Server:
    """One gunicorn started with the Procfile's web command on a loopback port; a context manager."""

    def __init__(self, app: str, env: dict, log: Path, ready_path: str = "/"):
        self.port = free_port()
        self.ready_path = ready_path
        command = procfile_web_command().replace("0.0.0.0", "127.0.0.1")  # noqa: S104 - only replaced
        if app != "app:app":
            command = command.replace("app:app", app)
        self.command = command
        self.env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(ROOT),
            **server_mode()[1],
            "PORT": str(self.port),
            # Several servers at once on one machine: no shared control socket in the home folder.
            "GUNICORN_CMD_ARGS": "--no-control-socket",
            **env,
        }
        self.log = log
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        self._log_file = self.log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own Procfile line
            ["/bin/sh", "-c", f"exec {self.command}"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited; see {self.log}:\n{self.log.read_text()[-2000:]}")
            try:
                # Listening is not ready: the workers import the app after the master binds.
                if self._get(self.ready_path) < 500:
                    for _ in range(WORKERS * 2):
                        self._get(self.ready_path)
                    return self
            except (OSError, TimeoutError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not start; see {self.log}")

    def _get(self, path: str) -> int:
        import asyncio

        answer = asyncio.run(load.send(self.port, Request("GET", path, source=load.next_address()), 10))
        return answer.status

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log_file.close()


@dataclass
class Line:
    result: load.Result
    database: str
    ceiling: load.Result | None = None
    target: float | None = None

    @property
    def ratio(self) -> float | None:
        if self.ceiling is None or not self.ceiling.rps:
            return None
        return self.result.rps / self.ceiling.rps


def app_env(database_url: str, **extra) -> dict:
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_hex(32),
        "BASE_URL": "http://127.0.0.1",
        "MAIL_SERVER": "",
        "EVENTREG_ENV": "",
        "FLASK_DEBUG": "",
        **extra,
    }


def prepare_database(database_url: str) -> dict:
    """Migrate, load the demo, add one bench session; returns the paths the scenarios use."""
    from datetime import timedelta

    from sqlalchemy import select

    from eventreg import create_app
    from eventreg.cli import upgrade_database
    from eventreg.demo import CONSULTATION_SLUG, load_demo_data
    from eventreg.extensions import db
    from eventreg.models import Consultation, Document, DocumentItem, EventSession, utcnow

    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": database_url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade_database()
        load_demo_data(db.session)
        consultation = db.session.scalar(select(Consultation).where(Consultation.slug == CONSULTATION_SLUG))
        sessions = list(
            db.session.scalars(
                select(EventSession)
                .where(EventSession.consultation_id == consultation.id, EventSession.status == "published")
                .order_by(EventSession.starts_at)
            )
        )
        start = utcnow() + timedelta(days=20)
        burst = EventSession(
            consultation_id=consultation.id,
            slug="bench-burst",
            kind="online",
            title={"ru": "Онлайн-консультация", "ky": "Онлайн консультация", "en": "Online consultation"},
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            languages=["ru", "ky"],
            capacity=40,
            waitlist_enabled=True,
            registration_deadline=start - timedelta(days=1),
            status="published",
        )
        db.session.add(burst)
        db.session.commit()
        documents = list(
            db.session.scalars(
                select(Document)
                .where(Document.consultation_id == consultation.id, Document.is_current.is_(True))
                .order_by(Document.id)
            )
        )
        document = max(
            documents,
            key=lambda d: db.session.query(DocumentItem).filter(DocumentItem.document_id == d.id).count(),
        )
        numbers = list(
            db.session.scalars(
                select(DocumentItem.number)
                .where(DocumentItem.document_id == document.id)
                .order_by(DocumentItem.position)
            )
        )
        paths = {
            "consultation": consultation.slug,
            "sessions": [s.slug for s in sessions if s.registration_open(utcnow())] or [sessions[0].slug],
            "burst": burst.slug,
            "document": document.key,
            "items": numbers,
            "burst_id": burst.id,
        }
    app.extensions["eventreg.db"]["engine"].dispose()
    return paths


LANGS = ["ru", "ky", "en"]


def _registration_form(n: int, token: str) -> dict:
    return {
        "csrf_token": token,
        "full_name": f"Айгүл Токтогулова {n}",
        "email": f"bench-{secrets.token_hex(6)}@example.kg",
        "phone": "+996 555 123 456",
        "organisation": "Жарандык коом уюму «Үмүт»",
        "position": "Координатор",
        "sector": "civil_society",
        "region": "KG-N",
        "sex": "female",
        "interpretation_language": "ky",
        "accessibility_needs": "",
        "consent": "y",
    }


def _comment_form(n: int, token: str) -> dict:
    return {
        "csrf_token": token,
        "kind": "amendment",
        "body": f"Предлагаем добавить показатели по полу и региону ({n}). Бул пунктка кошуу керек: ң ө ү.",
        "proposed_wording": "Көрсөткүчтөр жынысы жана региону боюнча бөлүнөт.",
        "name": f"Айгүл Токтогулова {n}",
        "organisation": "ОО «Үмүт»",
        "sector": "civil_society",
        "region": "KG-N",
        "sex": "female",
        "email": "",
        "consent": "y",
    }


def visitors(port: int, path: str, count: int = 32) -> list[tuple[str, str]]:
    """`count` new visitors open the form page: each keeps its session cookie and CSRF token."""
    import asyncio

    async def one() -> tuple[str, str]:
        answer = await load.send(port, Request("GET", path, source=load.next_address()))
        if answer.status != 200:
            raise RuntimeError(f"GET {path} answered {answer.status}")
        return answer.cookie(), load.csrf_token(answer.body)

    async def all_of_them():
        return await asyncio.gather(*(one() for _ in range(count)))

    return asyncio.run(all_of_them())


def warm(port: int, paths: list[str], rounds: int = 3) -> None:
    """Ask for every page of a scenario a few times, so each worker has rendered it once (bounded)."""
    import asyncio

    async def all_of_them():
        semaphore = asyncio.Semaphore(CONNECTIONS)

        async def one(path: str) -> None:
            async with semaphore:
                await load.send(port, Request("GET", path, source=load.next_address()))

        await asyncio.gather(*(one(path) for path in paths * rounds))

    asyncio.run(all_of_them())


def page_paths(paths: dict) -> dict[str, list[str]]:
    """The pages each scenario spreads its requests over: every language, every session, 20 clauses."""
    slug, key, items, sessions = paths["consultation"], paths["document"], paths["items"], paths["sessions"]
    clauses = items[:: max(len(items) // 20, 1)][:20]
    return {
        "session list": [f"/{lang}/" for lang in LANGS],
        "session page": [f"/{lang}/sessions/{s}" for s in sessions for lang in LANGS],
        "full draft document": [f"/{lang}/consultation/{slug}/{key}" for lang in LANGS],
        "comment form": [
            f"/{lang}/consultation/{slug}/{key}/items/{number}/comment"
            for number in clauses
            for lang in LANGS
        ],
    }


def get_pages(port: int, pages: dict[str, list[str]], suffix: str = "") -> dict[str, load.Result]:
    results = {}
    for name, urls in pages.items():
        warm(port, urls)

        def make(n: int, urls=urls) -> Request:
            return Request("GET", urls[n % len(urls)], source=load.next_address())

        results[name + suffix] = load.run(
            name + suffix, port, make, connections=CONNECTIONS, seconds=SECONDS, warmup=0.3
        )
    return results


def scenarios(port: int, paths: dict) -> dict[str, load.Result]:
    slug, key, items = paths["consultation"], paths["document"], paths["items"]
    results = get_pages(port, page_paths(paths))

    register_path = f"/ru/sessions/{paths['burst']}"
    people = visitors(port, register_path)
    results["registration POST"] = load.run(
        "registration POST",
        port,
        lambda n: Request(
            "POST",
            register_path,
            form=_registration_form(n, people[n % len(people)][1]),
            cookie=people[n % len(people)][0],
            source=load.next_address(),
        ),
        connections=CONNECTIONS,
        seconds=SECONDS,
    )

    comment_path = f"/ru/consultation/{slug}/{key}/items/{items[len(items) // 2]}/comment"
    authors = visitors(port, comment_path)
    results["comment POST"] = load.run(
        "comment POST",
        port,
        lambda n: Request(
            "POST",
            comment_path,
            form=_comment_form(n, authors[n % len(authors)][1]),
            cookie=authors[n % len(authors)][0],
            source=load.next_address(),
        ),
        connections=CONNECTIONS,
        seconds=SECONDS,
    )
    return results


def page_ceiling(folder: Path) -> load.Result:
    with Server("bench.ceilings:page_app", {}, folder / "page-ceiling.log") as server:
        return load.run(
            "page ceiling",
            server.port,
            lambda n: Request("GET", "/", source=load.next_address()),
            connections=CONNECTIONS,
            seconds=SECONDS,
        )


def insert_ceiling(folder: Path, database_url: str) -> load.Result:
    from .ceilings import create_tables

    create_tables(database_url)
    env = {"BENCH_CEILING_DATABASE_URL": database_url}
    with Server("bench.ceilings:insert_app", env, folder / "insert-ceiling.log") as server:
        return load.run(
            "insert ceiling",
            server.port,
            lambda n: Request("POST", "/", form={"name": f"Айгүл {n}"}, source=load.next_address()),
            connections=CONNECTIONS,
            seconds=SECONDS,
        )


def run_database(
    label: str, database_url: str, folder: Path, page: load.Result, *, extra_env: dict | None = None
) -> list[Line]:
    print(f"  … {label}: preparing the demo data", flush=True)
    paths = prepare_database(database_url)
    print(f"  … {label}: insert ceiling", flush=True)
    ceiling_url = database_url
    if database_url.startswith("sqlite"):
        ceiling_url = database_url.replace(".sqlite3", "-ceiling.sqlite3")
    insert = insert_ceiling(folder, ceiling_url)
    lines = [Line(insert, label)]
    print(f"  … {label}: the app", flush=True)
    env = app_env(database_url, **(extra_env or {}))
    with Server("app:app", env, folder / f"app-{label}.log", ready_path="/healthz") as server:
        results = scenarios(server.port, paths)
    # The same pages rendered for every request: what a visitor gets when the cache has no copy.
    env["PAGE_CACHE_SECONDS"] = "0"
    with Server("app:app", env, folder / f"app-{label}-no-cache.log", ready_path="/healthz") as server:
        pages = page_paths(paths)
        uncached = {name: pages[name] for name in ("session list", "session page")}
        results.update(get_pages(server.port, uncached, suffix=", no cache"))
    for name, result in results.items():
        post = name.endswith("POST")
        lines.append(
            Line(
                result,
                label,
                ceiling=insert if post else page,
                target=POST_TARGET if post else PAGE_TARGET,
            )
        )
    return lines


def print_table(lines: list[Line]) -> None:
    header = (
        f"  {'what':22} {'database':10} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'p99/p50':>7} "
        f"{'ratio':>6} {'target':>6}  answers"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for line in lines:
        r = line.result
        ratio = f"{line.ratio:.2f}" if line.ratio is not None else ""
        target = f"≥{line.target:.2f}" if line.target is not None else ""
        answers = " ".join(f"{status}×{n}" for status, n in sorted(r.statuses.items()))
        flags = []
        if line.target is not None and line.ratio is not None and line.ratio < line.target:
            flags.append("below target")
        if r.p99 > 3 * r.p50:
            flags.append("p99 > 3×p50")
        if r.server_errors:
            flags.append("5xx!")
        print(
            f"  {r.name:22} {line.database:10} {r.rps:7.0f} {r.p50:7.1f} {r.p99:7.1f} "
            f"{r.p99 / r.p50 if r.p50 else 0:7.1f} {ratio:>6} {target:>6}  {answers}"
            + (f"  ({', '.join(flags)})" if flags else ""),
            flush=True,
        )

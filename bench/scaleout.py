"""Two app instances behind a (simulated) load balancer, on PostgreSQL and Redis (`python -m bench.run scaleout`).

The load generator plays the load balancer: it spreads requests over both instances and says who the
client is in X-Forwarded-For, which the instances trust for one hop (PROXY_FIX_X_FOR=1). Both share
SECRET_KEY (a CSRF token from one instance is good on the other), the database and the rate-limit
counters in Redis. Then two mail workers run at once against an SMTP server on loopback (aiosmtpd),
which counts every delivery by Message-ID.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path

from . import load, web
from .load import Request

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
BURST = 120  # registrations for a 40-place session, and comments
ONE_ADDRESS_POSTS = 36  # registration POSTs from one client address; the limit is 30 a minute


@dataclass
class Counts:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, line: str, problem: str | None = None) -> None:
        self.lines.append(line)
        if problem:
            self.problems.append(problem)


class SMTPCounter:
    """An SMTP server on loopback that accepts everything and counts deliveries per Message-ID."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.message_ids: Counter = Counter()
        self._lock = threading.Lock()
        self.port = web.free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, _server, _session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message_id = message_from_bytes(envelope.content)["Message-ID"]
        with self._lock:
            self.message_ids[message_id] += len(envelope.rcpt_tos)
        return "250 OK"

    def __enter__(self) -> SMTPCounter:
        import logging

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


def _spread(ports: list[int], make):
    """Requests alternate between the instances, as a round-robin load balancer would send them."""
    return lambda n: make(n, ports[n % len(ports)])


async def _burst(requests: list[tuple[int, Request]], connections: int = 16) -> Counter:
    semaphore = asyncio.Semaphore(connections)
    statuses: Counter = Counter()

    async def one(port: int, request: Request) -> None:
        async with semaphore:
            try:
                statuses[(await load.send(port, request)).status] += 1
            except (TimeoutError, OSError):
                statuses[599] += 1

    await asyncio.gather(*(one(port, request) for port, request in requests))
    return statuses


def _forwarded(address: str) -> dict:
    return {"X-Forwarded-For": address}


def _visitors(ports: list[int], path: str, count: int) -> list[tuple[int, str, str]]:
    """New visitors open the form on either instance: (instance port, cookie, token)."""

    async def one(n: int):
        port = ports[n % len(ports)]
        answer = await load.send(port, Request("GET", path, headers=_forwarded(load.next_address())))
        return port, answer.cookie(), load.csrf_token(answer.body)

    async def all_of_them():
        return await asyncio.gather(*(one(n) for n in range(count)))

    return asyncio.run(all_of_them())


def _other(ports: list[int], port: int) -> int:
    return ports[(ports.index(port) + 1) % len(ports)]


def _answers(statuses: Counter) -> str:
    return " ".join(f"{status}×{n}" for status, n in sorted(statuses.items()))


def run(database_url: str, folder: Path) -> Counts:
    from sqlalchemy import create_engine, func, select, text

    from eventreg.db import _normalise_url
    from eventreg.models import Comment, OutboxMessage, Registration

    counts = Counts()
    paths = web.prepare_database(database_url)
    prefix = f"bench-{secrets.token_hex(4)}"
    shared = web.app_env(
        database_url,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_KEY_PREFIX=prefix,
        PROXY_FIX_X_FOR="1",
    )
    engine = create_engine(_normalise_url(database_url))
    with (
        web.Server("app:app", shared, folder / "instance-a.log", ready_path="/healthz") as a,
        web.Server("app:app", shared, folder / "instance-b.log", ready_path="/healthz") as b,
    ):
        ports = [a.port, b.port]
        register_path = f"/ru/sessions/{paths['burst']}"

        # Registration burst: the form is fetched from one instance and sent to the other.
        people = _visitors(ports, register_path, 32)
        requests = []
        for n in range(BURST):
            port, cookie, token = people[n % len(people)]
            form = web._registration_form(n, token)
            headers = _forwarded(load.next_address())
            requests.append(
                (
                    _other(ports, port),
                    Request("POST", register_path, form=form, cookie=cookie, headers=headers),
                )
            )
        statuses = asyncio.run(_burst(requests))
        with engine.connect() as conn:
            by_status = dict(
                conn.execute(
                    select(Registration.status, func.count())
                    .where(Registration.session_id == paths["burst_id"])
                    .group_by(Registration.status)
                ).all()
            )
        confirmed = by_status.get("confirmed", 0)
        counts.add(
            f"registration burst: {BURST} POSTs over 2 instances → {_answers(statuses)}; "
            f"confirmed {confirmed} of 40 places, waiting list {by_status.get('waitlisted', 0)}",
            None if confirmed == 40 and statuses == Counter({303: BURST}) else "overbooked or failed",
        )

        # Comment burst on one clause, spread the same way.
        comment_path = (
            f"/ru/consultation/{paths['consultation']}/{paths['document']}/items/{paths['items'][3]}/comment"
        )
        with engine.connect() as conn:
            comments_before = conn.scalar(select(func.count(Comment.id)))
        authors = _visitors(ports, comment_path, 32)
        requests = []
        for n in range(BURST):
            port, cookie, token = authors[n % len(authors)]
            form = web._comment_form(n, token)
            headers = _forwarded(load.next_address())
            requests.append(
                (
                    _other(ports, port),
                    Request("POST", comment_path, form=form, cookie=cookie, headers=headers),
                )
            )
        statuses = asyncio.run(_burst(requests))
        with engine.connect() as conn:
            stored = conn.scalar(select(func.count(Comment.id))) - comments_before
        counts.add(
            f"comment burst: {BURST} POSTs over 2 instances → {_answers(statuses)}; {stored} comments stored",
            None if stored == BURST and statuses == Counter({303: BURST}) else "comments lost or failed",
        )

        # One client address, alternating instances: the limit (30 a minute) holds across both.
        address = load.next_address()
        port, cookie, token = people[0]
        requests = [
            (
                ports[n % 2],
                Request(
                    "POST",
                    register_path,
                    form=web._registration_form(n, token),
                    cookie=cookie,
                    headers=_forwarded(address),
                ),
            )
            for n in range(ONE_ADDRESS_POSTS)
        ]
        statuses = asyncio.run(_burst(requests, connections=1))
        counts.add(
            f"rate limit shared through Redis: {ONE_ADDRESS_POSTS} POSTs from one address, alternating "
            f"instances → {_answers(statuses)} (limit 30 a minute)",
            None if statuses == Counter({303: 30, 429: ONE_ADDRESS_POSTS - 30}) else "limit not shared",
        )

    # Two mail workers at once drain the outbox into the counting SMTP server.
    with engine.connect() as conn:
        queued = conn.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.status == "pending"))
    with SMTPCounter() as smtp:
        env = {
            **os.environ,
            **web.app_env(database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp.port)),
            "PYTHONPATH": str(web.ROOT),
        }
        flask = str(Path(sys.executable).parent / "flask")
        command = [flask, "--app", "app", "mail", "work", "--interval", "0.2", "--remind-every", "0"]
        workers = [
            subprocess.Popen(  # noqa: S603 - our own CLI
                command,
                cwd=web.ROOT,
                env=env,
                stdout=(folder / f"mail-worker-{n}.log").open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            for n in range(2)
        ]
        deadline = time.monotonic() + 90
        left = queued
        try:
            while time.monotonic() < deadline:
                time.sleep(0.5)
                with engine.connect() as conn:
                    left = conn.scalar(
                        select(func.count(OutboxMessage.id)).where(
                            OutboxMessage.status.in_(["pending", "sending"])
                        )
                    )
                if not left:
                    break
        finally:
            for worker in workers:
                os.killpg(worker.pid, signal.SIGTERM)
            for worker in workers:
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
        time.sleep(0.5)
        with engine.connect() as conn:
            sent = conn.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.status == "sent"))
            conn.execute(text("SELECT 1"))
        deliveries = sum(smtp.message_ids.values())
        distinct = len(smtp.message_ids)
        twice = sum(1 for n in smtp.message_ids.values() if n > 1)
    counts.add(
        f"two mail workers at once: {queued} queued → {deliveries} delivered, {distinct} distinct, "
        f"{twice} delivered twice, {left} left; outbox says sent {sent}",
        None if deliveries == distinct == sent == queued and not left else "a message lost or sent twice",
    )
    engine.dispose()
    return counts

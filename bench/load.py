"""A small closed-loop HTTP load generator (asyncio, standard library only), for loopback servers only.

Each request is a new connection, as gunicorn's sync workers close after every answer. A request may be
sent from its own source address in 127.0.0.0/8, so the app sees distinct clients (its rate limits are
per address) without trusting any forwarded header. Every loop is bounded in time.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

HOST = "127.0.0.1"
_addresses = itertools.count(1)


def next_address() -> str:
    """A new loopback source address each call (127.1.0.1, 127.1.0.2, …), never outside 127.0.0.0/8."""
    n = next(_addresses)
    return f"127.{1 + (n // 65025) % 250}.{(n // 255) % 255}.{n % 255 + 1}"


@dataclass
class Request:
    method: str
    path: str
    form: dict | None = None
    cookie: str | None = None
    headers: dict = field(default_factory=dict)
    source: str | None = None

    def raw(self, port: int) -> bytes:
        body = urlencode(self.form).encode() if self.form is not None else b""
        lines = [
            f"{self.method} {self.path} HTTP/1.1",
            f"Host: {HOST}:{port}",
            "User-Agent: eventreg-bench",
            "Connection: close",
        ]
        if self.cookie:
            lines.append(f"Cookie: {self.cookie}")
        if self.form is not None:
            lines.append("Content-Type: application/x-www-form-urlencoded")
            lines.append(f"Content-Length: {len(body)}")
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def cookie(self, name: str = "session") -> str | None:
        for key, value in self.headers:
            if key.lower() == "set-cookie" and value.startswith(f"{name}="):
                return value.split(";", 1)[0]
        return None

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


async def send(port: int, request: Request, timeout: float = 30.0) -> Answer:
    local = (request.source, 0) if request.source else None
    reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port, local_addr=local), timeout)
    try:
        writer.write(request.raw(port))
        data = await asyncio.wait_for(reader.read(-1), timeout)  # the server closes after its answer
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:] if ":" in line]
    return Answer(status, headers, body)


_CSRF = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(body: bytes) -> str:
    match = _CSRF.search(body)
    if not match:
        raise RuntimeError("page has no CSRF token")
    return match.group(1).decode()


@dataclass
class Result:
    name: str
    seconds: float
    latencies: list[float]
    statuses: Counter

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        if len(self.latencies) < 2:
            return self.latencies[0]
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(p) - 1]

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p99(self) -> float:
        return self.percentile(99)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


def run(
    name: str,
    port: int,
    make_request: Callable[[int], Request],
    *,
    connections: int = 16,
    seconds: float = 3.0,
    warmup: float = 0.5,
    max_requests: int = 100_000,
) -> Result:
    """Keep `connections` requests in flight for `warmup` + `seconds`; measure only after the warm-up."""
    return asyncio.run(_run(name, port, make_request, connections, seconds, warmup, max_requests))


async def _run(name, port, make_request, connections, seconds, warmup, max_requests) -> Result:
    """Counts the answers that arrive inside the window, whenever their request was sent (a slow answer
    that started during the warm-up still counts); requests still in flight when it closes are dropped."""
    counter = itertools.count()
    latencies: list[float] = []
    statuses: Counter = Counter()
    started = time.perf_counter()
    measure_from = started + warmup
    stop_at = measure_from + seconds

    async def client() -> None:
        while time.perf_counter() < stop_at:
            n = next(counter)
            if n >= max_requests:
                return
            request = make_request(n)
            begun = time.perf_counter()
            try:
                answer = await send(port, request)
                status = answer.status
            except (TimeoutError, OSError):
                status = 599  # no answer at all: counted with the server errors
            ended = time.perf_counter()
            if measure_from <= ended <= stop_at:
                latencies.append((ended - begun) * 1000)
                statuses[status] += 1

    tasks = [asyncio.create_task(client()) for _ in range(connections)]
    _done, pending = await asyncio.wait(tasks, timeout=stop_at - time.perf_counter() + 0.05)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return Result(name, seconds, latencies, statuses)

"""Faults: the rate-limit store failing at start-up or mid-run never stops people from using the site."""

from __future__ import annotations

import importlib.util
import logging
import secrets
import subprocess
import time

import pytest
import redis

from eventreg.config import PROJECT_ROOT
from tests.conftest import make_test_app
from tests.factories import csrf_token, make_event_session
from tests.factories_mail import free_port


@pytest.fixture
def own_redis(tmp_path):
    """A Redis server of this test's own on a loopback port, which the test may stop."""
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield port, process
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)


def _ask_for_link(client, slug):
    page = client.get(f"/en/sessions/{slug}").get_data(as_text=True)
    return client.post(
        f"/en/sessions/{slug}/link", data={"email": "x@example.kg", "csrf_token": csrf_token(page)}
    ).status_code


def _app_with_store(database_url, tmp_path, uri):
    app = make_test_app(database_url, tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=uri)
    from eventreg.extensions import db

    with app.app_context():
        slug = make_event_session(db.session).slug
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.7.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    return app, client, slug


def test_redis_stopped_mid_run_requests_go_on_and_health_says_degraded(
    database_url, tmp_path, own_redis, caplog
):
    port, process = own_redis
    app, client, slug = _app_with_store(database_url, tmp_path, f"redis://127.0.0.1:{port}/0")
    assert client.get("/healthz").get_json()["rate_limit_store"] == "ok"
    assert [_ask_for_link(client, slug) for _ in range(2)] == [303, 303]
    assert redis.Redis(port=port).keys("*"), "the counters were not in Redis while it ran"

    process.terminate()
    process.wait(timeout=10)
    with caplog.at_level(logging.WARNING):
        codes = [_ask_for_link(client, slug) for _ in range(6)]
    # Requests go on; the limit (5 a minute) still holds, counted in this process from the failure on.
    assert codes[:5] == [303] * 5
    assert codes[5] == 429
    assert any(
        r.levelno >= logging.ERROR and "RATE-LIMIT STORE UNREACHABLE" in r.getMessage()
        for r in caplog.records
    )
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.get_json() == {"status": "degraded", "database": "ok", "rate_limit_store": "degraded"}
    app.extensions["eventreg.db"]["engine"].dispose()


def test_redis_down_at_start_up_requests_go_on(database_url, tmp_path):
    app, client, slug = _app_with_store(database_url, tmp_path, f"redis://127.0.0.1:{free_port()}/0")
    assert [_ask_for_link(client, slug) for _ in range(3)] == [303] * 3
    assert client.get("/healthz").get_json()["status"] == "degraded"
    app.extensions["eventreg.db"]["engine"].dispose()


def _gunicorn_conf():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", PROJECT_ROOT / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_a_shared_store_the_web_process_is_one_worker_so_limits_are_exact():
    conf = _gunicorn_conf()
    assert conf.worker_count({"WEB_CONCURRENCY": "3"}) == 1
    assert conf.worker_count({}) == 1
    assert conf.worker_count({"WEB_CONCURRENCY": "3", "REDIS_URL": "redis://127.0.0.1:6379/0"}) == 3
    assert conf.worker_count({"RATELIMIT_STORAGE_URI": "memory://", "WEB_CONCURRENCY": "4"}) == 1
    procfile = (PROJECT_ROOT / "Procfile").read_text()
    assert "--config gunicorn.conf.py" in procfile and "--workers" not in procfile


def test_access_log_carries_no_personal_link_token():
    conf = _gunicorn_conf()
    assert conf.redact("/ru/r/AbC_123-xyz/cancel") == "/ru/r/[token]/cancel"
    assert conf.redact("GET /ky/r/AbC_123-xyz HTTP/1.1") == "GET /ky/r/[token] HTTP/1.1"
    assert conf.redact("/en/sessions/naryn") == "/en/sessions/naryn"


def test_limits_are_exact_under_the_procfile_web_process_without_a_shared_store(tmp_path):
    """The real gunicorn command of the Procfile, asked for 3 workers with no Redis: still one count."""
    import os
    import signal
    import sys

    import requests
    from sqlalchemy import create_engine

    from eventreg.db import Base

    url = f"sqlite:///{tmp_path / 'web.sqlite3'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    app = make_test_app(url, tmp_path)
    from eventreg.extensions import db

    with app.app_context():
        slug = make_event_session(db.session).slug
    app.extensions["eventreg.db"]["engine"].dispose()

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "RATELIMIT_STORAGE_URI")}
    env.update({"DATABASE_URL": url, "SECRET_KEY": "test", "PORT": str(port), "WEB_CONCURRENCY": "3"})
    procfile_web = (PROJECT_ROOT / "Procfile").read_text().split("web:", 1)[1].splitlines()[0].split()
    process = subprocess.Popen(
        [sys.executable, "-m", *procfile_web],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                requests.get(f"{base}/healthz", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.1)
        codes = []
        for _ in range(8):  # a fresh connection each time, as from different browsers tabs
            browser = requests.Session()
            page = browser.get(f"{base}/en/sessions/{slug}").text
            codes.append(
                browser.post(
                    f"{base}/en/sessions/{slug}/link",
                    data={"email": "x@example.kg", "csrf_token": csrf_token(page)},
                    allow_redirects=False,
                ).status_code
            )
        assert codes == [303] * 5 + [429] * 3
    finally:
        process.send_signal(signal.SIGTERM)
        _out, errors = process.communicate(timeout=30)
    assert "WEB_CONCURRENCY=3 ignored" in errors

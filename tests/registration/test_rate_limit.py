"""Throttling counters live in Redis in production, shared by every app instance."""

from __future__ import annotations

import secrets

import pytest
import redis

from tests.conftest import REDIS_URL, make_test_app, service_or_skip
from tests.factories import csrf_token, make_event_session, registration_form


@pytest.fixture
def redis_url():
    service_or_skip("Redis", REDIS_URL, 6379)
    return REDIS_URL


def test_two_app_instances_share_the_limit_through_redis(database_url, tmp_path, redis_url):
    config = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": redis_url}
    first = make_test_app(database_url, tmp_path, **config)
    second = make_test_app(database_url, tmp_path, **config)
    from eventreg.extensions import db

    with first.app_context():
        slug = make_event_session(db.session).slug
    clients = [first.test_client(), second.test_client()]
    # One address for both clients, new in every run, so no counter from an earlier run applies.
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    for client in clients:
        client.environ_base["REMOTE_ADDR"] = address
    statuses = []
    for attempt in range(8):  # the lost-link form allows 5 a minute per address
        client = clients[attempt % 2]
        page = client.get(f"/en/sessions/{slug}").get_data(as_text=True)
        response = client.post(
            f"/en/sessions/{slug}/link", data={"email": "x@example.kg", "csrf_token": csrf_token(page)}
        )
        statuses.append(response.status_code)
    assert statuses[:5] == [303] * 5
    assert statuses[5:] == [429] * 3
    limited = client.post(
        f"/ky/sessions/{slug}/link", data={"email": "x@example.kg", "csrf_token": csrf_token(page)}
    )
    assert limited.status_code == 429
    assert '<html lang="ky">' in limited.get_data(as_text=True)
    # the counter really lives in Redis (not in this process's memory)
    keys = redis.Redis.from_url(redis_url).keys(f"*{address}*")
    assert keys, "no rate-limit counter for this address in Redis"
    for app in (first, second):
        app.extensions["eventreg.db"]["engine"].dispose()


def test_registration_posts_are_limited_per_address(database_url, tmp_path):
    app = make_test_app(database_url, tmp_path, RATELIMIT_ENABLED=True)
    from eventreg.extensions import db

    with app.app_context():
        slug = make_event_session(db.session, capacity=100).slug
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.9.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    token = csrf_token(client.get(f"/ru/sessions/{slug}").get_data(as_text=True))
    codes = [
        client.post(f"/ru/sessions/{slug}", data=registration_form(csrf_token=token)).status_code
        for _ in range(31)
    ]
    assert codes[:30] == [303] * 30
    assert codes[30] == 429
    app.extensions["eventreg.db"]["engine"].dispose()

"""Capacity is a promise: parallel registrations against a live server never oversell.

The control test turns the lock off (a test-only switch) and must oversell, which shows the main test
would notice if the lock ever stopped working.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import select

from eventreg.models import Registration
from tests.conftest import LiveServer, make_test_app
from tests.factories import csrf_token, make_event_session, registration_form

PARALLEL = 40
CAPACITY = 5

pytestmark = pytest.mark.slow


def _fire_parallel_registrations(server_url: str, slug: str) -> list[int]:
    # Every client fetches its form first, then all submit at the same moment.
    clients = []
    for _ in range(PARALLEL):
        http = requests.Session()
        page = http.get(f"{server_url}/ru/sessions/{slug}", timeout=30)
        assert page.status_code == 200
        clients.append((http, csrf_token(page.text)))
    barrier = threading.Barrier(PARALLEL)

    def submit(index: int) -> int:
        http, token = clients[index]
        data = registration_form(email=f"parallel{index}@example.kg", csrf_token=token)
        barrier.wait()
        response = http.post(f"{server_url}/ru/sessions/{slug}", data=data, allow_redirects=False, timeout=60)
        return response.status_code

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return list(pool.map(submit, range(PARALLEL)))


def _run(database_url, tmp_path, **config):
    app = make_test_app(database_url, tmp_path, **config)
    from eventreg.extensions import db

    with app.app_context():
        event = make_event_session(db.session, capacity=CAPACITY, waitlist_enabled=True)
        slug, event_id = event.slug, event.id
    with LiveServer(app) as server:
        statuses = _fire_parallel_registrations(server.url, slug)
    with app.app_context():
        rows = list(
            db.session.scalars(
                select(Registration).where(Registration.session_id == event_id).order_by(Registration.id)
            )
        )
    app.extensions["eventreg.db"]["engine"].dispose()
    return statuses, rows


def test_parallel_registrations_never_oversell(database_url, tmp_path):
    statuses, rows = _run(database_url, tmp_path)
    assert statuses == [303] * PARALLEL, "every request succeeds (no 5xx, no refusals)"
    assert len(rows) == PARALLEL
    confirmed = [r for r in rows if r.status == "confirmed"]
    waitlisted = [r for r in rows if r.status == "waitlisted"]
    assert len(confirmed) == CAPACITY
    assert len(waitlisted) == PARALLEL - CAPACITY
    # the waiting list is in arrival order: everyone confirmed arrived before everyone waiting
    assert max(r.id for r in confirmed) < min(r.id for r in waitlisted)


def test_control_without_the_lock_oversells(database_url, tmp_path):
    statuses, rows = _run(database_url, tmp_path, TESTING_SKIP_CAPACITY_LOCK=True, TESTING_RACE_WINDOW=0.2)
    assert 500 not in statuses
    confirmed = [r for r in rows if r.status == "confirmed"]
    assert len(confirmed) > CAPACITY, (
        "without the lock the same load must oversell, or the test proves nothing"
    )

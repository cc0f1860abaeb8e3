"""Nothing personal in the logs: a live-server journey, errors included, leaves no name, e-mail, phone,
personal-link token or typed text in any log line."""

from __future__ import annotations

import logging
import re

import pytest
import requests
from sqlalchemy import select, text

from eventreg.models import Registration
from eventreg.registration import services as registration_services
from tests.factories import csrf_token, make_event_session, registration_form


@pytest.fixture
def app_config():
    # Rate limits on: the limiter logs the key of every limit it enforces.
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}


def test_a_live_journey_with_errors_logs_nothing_personal(app, live_server, db_session, monkeypatch, caplog):
    event = make_event_session(db_session, capacity=10)
    person = registration_form(
        full_name="Жылдыз Сыдыкова",
        email="zhyldyz.sydykova@example.kg",
        phone="+996 700 314 159",
        position="Эксперт по гендерной политике",
        accessibility_needs="Нужен пандус у входа в зал",
    )
    base = live_server.url
    browser = requests.Session()
    caplog.set_level(logging.DEBUG)

    page = browser.get(f"{base}/en/sessions/{event.slug}").text
    registered = browser.post(
        f"{base}/en/sessions/{event.slug}", data={**person, "csrf_token": csrf_token(page)}
    )
    assert registered.status_code == 200 and "/r/" in registered.url
    token = db_session.scalar(select(Registration.token))
    assert browser.get(f"{base}/en/r/{token}").status_code == 200
    assert browser.get(f"{base}/en/r/{token}/edit").status_code == 200
    assert browser.get(f"{base}/en/r/{token}/calendar.ics").status_code == 200

    # Registering again, then an error: the database refuses a row carrying the person's e-mail.
    def failing_link_request(session, event_session_id, email):
        for _ in range(2):
            session.execute(
                text(
                    "INSERT INTO users (email, name, password_hash, role, active, session_version) "
                    "VALUES (:email, :name, 'x', 'organiser', true, 1)"
                ),
                {"email": email, "name": person["full_name"]},
            )

    monkeypatch.setattr(registration_services, "request_link_again", failing_link_request)
    page = browser.get(f"{base}/en/sessions/{event.slug}").text
    again = browser.post(f"{base}/en/sessions/{event.slug}", data={**person, "csrf_token": csrf_token(page)})
    assert again.status_code == 500

    # Wrong passwords for the same e-mail until the limiter steps in.
    login = browser.get(f"{base}/en/login").text
    codes = [
        browser.post(
            f"{base}/en/login",
            data={"email": person["email"], "password": "wrong", "csrf_token": csrf_token(login)},
        ).status_code
        for _ in range(6)
    ]
    assert codes[-1] == 429

    # Everything the server side logged (the test's own HTTP client, urllib3, is not the server).
    server_records = [r for r in caplog.records if not r.name.startswith("urllib3")]
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    logged = "\n".join(formatter.format(r) for r in server_records)
    assert "unhandled error on POST" in logged and "IntegrityError" in logged  # the error is logged …
    assert re.search(r"GET /en/r/\[token\]", logged)  # … and so are the requests, tokens hidden
    for secret in [
        token,
        person["full_name"],
        person["email"],
        person["email"].split("@")[0],
        person["phone"],
        person["position"],
        person["accessibility_needs"],
    ]:
        assert secret not in logged, f"{secret!r} found in the log"

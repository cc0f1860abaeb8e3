"""Held places: one client cannot take every place of a small session with invented people.

A session may hold each new place until the person confirms it from the link in their e-mail; holds that
run out free their place for the waiting list, in order. Registrations from one address to one session
are bounded, generously.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from eventreg.db import unit_of_work
from eventreg.models import OutboxMessage, Registration
from eventreg.registration import availability, services
from tests.auth_helpers import login_as, make_user
from tests.conftest import LiveServer, make_test_app
from tests.factories import csrf_token, make_event_session, now, participant_details, registration_form


def _register(client, slug: str, email: str, lang: str = "ky"):
    page = client.get(f"/{lang}/sessions/{slug}")
    data = registration_form(email=email, csrf_token=csrf_token(page.get_data(as_text=True)))
    return client.post(f"/{lang}/sessions/{slug}", data=data)


def _registrations(db_session, event_id: int) -> list[Registration]:
    db_session.expire_all()
    return list(
        db_session.scalars(
            select(Registration).where(Registration.session_id == event_id).order_by(Registration.id)
        )
    )


def _mail(db_session, kind: str) -> list[OutboxMessage]:
    return list(
        db_session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id))
    )


def test_a_held_place_is_kept_until_confirmed_from_the_email(client, db_session):
    event = make_event_session(db_session, capacity=2, hold_places=True, hold_hours=3)
    answers = [
        _register(client, event.slug, email) for email in ("a@example.kg", "b@example.kg", "c@example.kg")
    ]
    first, second, third = _registrations(db_session, event.id)
    assert [a.status_code for a in answers] == [303, 303, 303]
    for answer, registration in zip(answers, (first, second, third), strict=True):
        # whoever registers never sees the personal link: only the mailbox gets it
        assert registration.token not in answer.headers["Location"]
        page = client.get(answer.headers["Location"]).get_data(as_text=True)
        assert registration.token not in page and "Почтаңызды текшериңиз" in page
    assert [r.status for r in (first, second, third)] == ["held", "held", "waitlisted"]
    assert timedelta(hours=2, minutes=59) < first.hold_expires_at - now() <= timedelta(hours=3)

    (message, _second) = _mail(db_session, "registration_held")
    assert message.recipient == "a@example.kg" and message.locale == "ky"
    assert message.subject == "Ордуңузду ырастаңыз", "in the participant's language"
    assert first.token in message.body_text and "UTC+6" in message.body_text

    page = client.get(f"/ky/r/{first.token}").get_data(as_text=True)
    assert f'action="/ky/r/{first.token}/confirm"' in page, "the personal page carries the confirm button"
    token = csrf_token(page)
    response = client.post(f"/ky/r/{first.token}/confirm", data={"csrf_token": token})
    assert response.status_code == 303
    assert client.post(f"/ky/r/{first.token}/confirm", data={"csrf_token": token}).status_code == 303
    first, second, third = _registrations(db_session, event.id)
    assert (first.status, first.hold_expires_at) == ("confirmed", None)
    assert [m.recipient for m in _mail(db_session, "registration_confirmed")] == ["a@example.kg"], "told once"
    assert second.status == "held" and third.status == "waitlisted"


def test_holds_that_run_out_go_to_the_waiting_list_in_order(app, db_session):
    event = make_event_session(db_session, capacity=2, hold_places=True, hold_hours=1)
    start = now()
    with app.test_request_context("/ru/"):
        for n, email in enumerate(
            ("a@example.kg", "b@example.kg", "c@example.kg", "d@example.kg", "e@example.kg")
        ):
            details = participant_details(full_name=f"Участник {n}", email=email, locale="ru")
            with unit_of_work(db_session):
                services.register_participant(db_session, event.id, details, now=start + timedelta(minutes=n))
        a, b, c, d, e = _registrations(db_session, event.id)
        with unit_of_work(db_session):
            services.confirm_place(db_session, b.id, now=start + timedelta(minutes=10))
        # An hour and a bit later: a's hold has run out, b confirmed in time.
        later = start + timedelta(hours=1, minutes=5)
        assert availability.for_session(db_session, event, later).places_left == 1, (
            "an expired hold frees its place at once"
        )
        with unit_of_work(db_session):
            released = services.release_all_expired_holds(db_session, now=later)
        assert released == 1
    a, b, c, d, e = _registrations(db_session, event.id)
    assert (a.status, b.status) == ("cancelled", "confirmed")
    assert (c.status, d.status, e.status) == ("held", "waitlisted", "waitlisted"), (
        "the first in the queue moves up"
    )
    assert c.hold_expires_at == later + timedelta(hours=1), "and must confirm too"
    assert [m.recipient for m in _mail(db_session, "registration_hold_expired")] == ["a@example.kg"]
    assert "c@example.kg" in [m.recipient for m in _mail(db_session, "registration_held")]


def test_the_worker_releases_expired_holds(app, db_session, runner):
    event = make_event_session(db_session, capacity=1, hold_places=True)
    with app.test_request_context("/ru/"):
        for email in ("a@example.kg", "b@example.kg"):
            details = participant_details(email=email)
            with unit_of_work(db_session):
                services.register_participant(db_session, event.id, details, now=now() - timedelta(hours=6))
    result = runner.invoke(args=["mail", "work", "--max-loops", "1"])
    assert result.exit_code == 0, result.output
    held, waiting = _registrations(db_session, event.id)
    assert (held.status, waiting.status) == ("cancelled", "held")


def test_an_organiser_confirms_a_held_place_in_a_full_session(client, app, db_session):
    event = make_event_session(db_session, capacity=1, hold_places=True)
    _register(client, event.slug, "a@example.kg")
    (held,) = _registrations(db_session, event.id)
    login_as(client, app, make_user(db_session, "organiser"))
    page = client.get(f"/en/organiser/sessions/{event.id}/registrations").get_data(as_text=True)
    response = client.post(
        f"/en/organiser/registrations/{held.id}/status",
        data={"status": "confirmed", "csrf_token": csrf_token(page)},
    )
    assert response.status_code == 303
    assert _registrations(db_session, event.id)[0].status == "confirmed", "no 'over capacity' needed"


@pytest.fixture
def app_config():
    return {}


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "REGISTRATIONS_PER_ADDRESS_AND_SESSION": "3 per day"}]
)
def test_one_address_registers_a_bounded_number_per_session(client, db_session, app_config):
    event = make_event_session(db_session, capacity=50)
    other = make_event_session(db_session, capacity=50)
    for n in range(3):
        assert _register(client, event.slug, f"staff{n}@example.kg").status_code == 303
    refused = _register(client, event.slug, "staff3@example.kg")
    assert refused.status_code == 429
    assert "Жарандык коом уюму «Үмүт»" in refused.get_data(as_text=True), "what was typed is given back"
    assert len(_registrations(db_session, event.id)) == 3, "nothing stored for the refused one"
    assert _register(client, other.slug, "staff3@example.kg").status_code == 303, "another session is fine"


@pytest.mark.slow
def test_a_parallel_burst_on_a_holding_session_never_holds_more_than_its_places(database_url, tmp_path):
    app = make_test_app(database_url, tmp_path)
    from eventreg.extensions import db

    with app.app_context():
        event = make_event_session(db.session, capacity=5, hold_places=True)
        slug, event_id = event.slug, event.id
    with LiveServer(app) as server:
        clients = []
        for n in range(20):
            http = requests.Session()
            token = csrf_token(http.get(f"{server.url}/ru/sessions/{slug}", timeout=30).text)
            clients.append((http, registration_form(email=f"p{n}@example.kg", csrf_token=token)))
        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = list(
                pool.map(
                    lambda c: (
                        c[0]
                        .post(
                            f"{server.url}/ru/sessions/{slug}", data=c[1], allow_redirects=False, timeout=60
                        )
                        .status_code
                    ),
                    clients,
                )
            )
    with app.app_context():
        rows = list(db.session.scalars(select(Registration).where(Registration.session_id == event_id)))
    app.extensions["eventreg.db"]["engine"].dispose()
    assert statuses == [303] * 20
    assert sum(r.status == "held" for r in rows) == 5
    assert sum(r.status == "waitlisted" for r in rows) == 15

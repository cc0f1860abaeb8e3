"""Rules that change when a session has started: no promotion, no participant edits, honest mail counts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from eventreg.db import unit_of_work
from eventreg.models import OutboxMessage, Registration
from eventreg.registration import services
from tests.auth_helpers import login_as, make_user
from tests.factories import csrf_token, make_event_session, make_registration, now


def started_session(db_session, **overrides):
    start = now() - timedelta(minutes=5)
    values = dict(starts_at=start, ends_at=start + timedelta(hours=6), registration_deadline=None, capacity=1)
    values.update(overrides)
    return make_event_session(db_session, **values)


def outbox(db_session, kind: str) -> list[OutboxMessage]:
    db_session.expire_all()
    return list(db_session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))


def test_no_promotion_from_the_waiting_list_once_the_session_has_started(app, db_session):
    event = started_session(db_session)
    seated = make_registration(db_session, event)
    waiting = make_registration(db_session, event, status="waitlisted")
    organiser = make_user(db_session, role="organiser")
    # An organiser still can cancel after the start; the freed seat is not handed out by e-mail.
    with unit_of_work(db_session):
        _reg, promoted = services.set_status_by_organiser(db_session, seated.id, "cancelled", by=organiser)
    assert promoted == []
    assert db_session.get(Registration, waiting.id, populate_existing=True).status == "waitlisted"
    assert outbox(db_session, "registration_promoted") == []


def test_before_the_start_a_cancellation_still_promotes(app, db_session):
    event = make_event_session(db_session, capacity=1)
    seated = make_registration(db_session, event)
    waiting = make_registration(db_session, event, status="waitlisted")
    with unit_of_work(db_session):
        _reg, promoted = services.cancel_registration(db_session, seated.id)
    assert [r.id for r in promoted] == [waiting.id]


def test_participant_cannot_change_or_cancel_after_the_start(client, db_session):
    event = started_session(db_session, capacity=5)
    reg = make_registration(db_session, event)
    page = client.get(f"/en/r/{reg.token}").get_data(as_text=True)
    assert "Cancel my registration" not in page and "Change my details" not in page
    for path in (f"/en/r/{reg.token}/edit", f"/en/r/{reg.token}/cancel"):
        response = client.get(path)
        assert response.status_code == 303
        refused = client.post(path, data={"csrf_token": "x", "full_name": "Changed"}, follow_redirects=True)
        assert "The session has started" in refused.get_data(as_text=True)
    db_session.expire_all()
    again = db_session.get(Registration, reg.id)
    assert again.status == "confirmed" and again.full_name == reg.full_name
    # and the service itself refuses, whoever calls it
    try:
        with unit_of_work(db_session):
            services.cancel_registration(db_session, reg.id)
    except services.SessionStarted:
        pass
    else:
        raise AssertionError("cancelled after the start")


def test_waitlisted_person_sees_what_happens_not_a_qr_code(client, db_session):
    event = make_event_session(db_session, capacity=1)
    make_registration(db_session, event)
    waiting = make_registration(db_session, event, status="waitlisted")
    page = client.get(f"/en/r/{waiting.token}").get_data(as_text=True)
    assert 'class="qr-code"' not in page
    assert "If a place frees up" in page and "nothing to show at the registration desk" in page
    confirmed = make_registration(db_session, make_event_session(db_session))
    assert 'class="qr-code"' in client.get(f"/en/r/{confirmed.token}").get_data(as_text=True)


def test_write_to_participants_skips_people_without_email_and_says_how_many(app, client, db_session):
    event = make_event_session(db_session, capacity=10)
    make_registration(db_session, event, email="a@example.kg")
    make_registration(db_session, event, email="b@example.kg")
    make_registration(db_session, event, email="", email_normalized="walk-in:1", source="walk_in")
    login_as(client, app, make_user(db_session, role="organiser"))
    form = client.get(f"/en/organiser/mail/write?session={event.id}").get_data(as_text=True)
    data = {"csrf_token": csrf_token(form), "session_id": str(event.id), "subject": "Room", "body": "Room 3"}
    page = client.post("/en/organiser/mail/write", data=data, follow_redirects=True).get_data(as_text=True)
    assert "Your message is queued for 2 participants." in page
    assert "1 participant has no e-mail address and could not be reached." in page
    assert sorted(m.recipient for m in outbox(db_session, "organiser_message")) == [
        "a@example.kg",
        "b@example.kg",
    ]

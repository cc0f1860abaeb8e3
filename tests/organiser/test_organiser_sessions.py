"""The organiser's side of sessions: create, edit, publish, cancel, copy, and registrations at the desk."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from eventreg.models import AuditEntry, EventSession, OutboxMessage, Registration
from tests.auth_helpers import login_as, make_user
from tests.factories import (
    csrf_token,
    make_consultation,
    make_event_session,
    make_registration,
    registration_form,
)
from tests.factories_organiser import session_form


@pytest.fixture
def organiser(app, db_session):
    return make_user(db_session, role="organiser", email="organiser@example.kg")


@pytest.fixture
def staff(app, client, organiser):
    login_as(client, app, organiser)
    return client


def token_from(client, url):
    return csrf_token(client.get(url).get_data(as_text=True))


def audit_actions(db_session):
    db_session.expire_all()
    return [e.action for e in db_session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def outbox(db_session, kind):
    return list(db_session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))


def reload(db_session, obj):
    db_session.expire_all()
    return db_session.get(type(obj), obj.id)


def test_create_a_session_in_three_languages_as_a_draft_then_publish(staff, db_session, organiser):
    consultation = make_consultation(db_session)
    token = token_from(staff, "/en/organiser/sessions/new")
    response = staff.post(
        "/en/organiser/sessions/new", data={**session_form(consultation.id), "csrf_token": token}
    )
    assert response.status_code == 303
    event = db_session.scalars(select(EventSession)).one()
    assert event.status == "draft"
    assert event.title == {
        "ru": "Региональная консультация в Таласе",
        "ky": "Таластагы аймактык консультация",
        "en": "Regional consultation in Talas",
    }
    assert event.description == {"ru": "Обсуждение проекта стратегии"}  # empty languages are not stored
    # 10:00 in Bishkek (UTC+6) is 04:00 UTC
    assert event.starts_at == datetime(2031, 10, 12, 4, 0, tzinfo=UTC)
    assert event.registration_deadline == datetime(2031, 10, 10, 12, 0, tzinfo=UTC)
    assert (event.capacity, event.waitlist_enabled, event.languages, event.region) == (
        30,
        True,
        ["ru", "ky"],
        "KG-T",
    )
    assert staff.get(f"/ru/sessions/{event.slug}").status_code == 404  # drafts are not public

    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "Regional consultation in Talas" in page and "Draft" in page
    staff.post(f"/en/organiser/sessions/{event.id}/publish", data={"csrf_token": token})
    assert reload(db_session, event).status == "published"
    assert staff.get(f"/ky/sessions/{event.slug}").status_code == 200
    assert audit_actions(db_session) == ["session.create", "session.publish"]
    assert db_session.scalars(select(AuditEntry)).first().user_id == organiser.id


def test_session_form_refuses_bad_input_and_keeps_what_was_typed(staff, db_session):
    consultation = make_consultation(db_session)
    token = token_from(staff, "/en/organiser/sessions/new")
    data = session_form(
        consultation.id, title_ru="", title_ky="", title_en="", ends_at="2031-10-12T09:00", capacity="0"
    )
    response = staff.post("/en/organiser/sessions/new", data={**data, "csrf_token": token})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Please give a title in at least one language." in page
    assert "The end must be after the start." in page
    assert "Please give a number from 1 to 100000." in page
    assert "Талас, зал областной администрации" in page
    expired = staff.post(
        "/en/organiser/sessions/new", data={**session_form(consultation.id), "csrf_token": "old"}
    )
    assert expired.status_code == 400
    assert "The form had expired" in expired.get_data(as_text=True)
    assert "Таластагы аймактык консультация" in expired.get_data(as_text=True)
    assert db_session.scalars(select(EventSession)).all() == []


def test_editing_time_or_venue_tells_registrants_and_other_edits_do_not(staff, db_session):
    event = make_event_session(db_session, capacity=5)
    confirmed = make_registration(db_session, event, "confirmed")
    make_registration(db_session, event, "waitlisted")
    make_registration(db_session, event, "cancelled")
    url = f"/en/organiser/sessions/{event.id}/edit"
    form = staff.get(url).get_data(as_text=True)
    assert "Consultation in Naryn" in form
    token = csrf_token(form)
    base = session_form(event.consultation_id, region="KG-N", capacity="5")

    staff.post(url, data={**base, "csrf_token": token})  # moves time and venue from the factory values
    assert len(outbox(db_session, "session_changed")) == 2  # the cancelled one is not told
    assert confirmed.email in {m.recipient for m in outbox(db_session, "session_changed")}

    staff.post(url, data={**base, "title_en": "Consultation in Naryn (updated)", "csrf_token": token})
    assert len(outbox(db_session, "session_changed")) == 2
    assert reload(db_session, event).title["en"] == "Consultation in Naryn (updated)"
    entries = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "session.edit")).all()
    assert [e.details["notified"] for e in entries] == [2, 0]
    assert "title" in entries[1].details["changed"]


def test_raising_capacity_promotes_from_the_waiting_list_and_lowering_below_confirmed_is_refused(
    staff, db_session
):
    event = make_event_session(db_session, capacity=1)
    make_registration(db_session, event, "confirmed")
    first = make_registration(db_session, event, "waitlisted")
    second = make_registration(db_session, event, "waitlisted")
    third = make_registration(db_session, event, "waitlisted")
    url = f"/en/organiser/sessions/{event.id}/edit"
    token = token_from(staff, url)
    response = staff.post(
        url, data={**session_form(event.consultation_id, capacity="3"), "csrf_token": token}
    )
    assert response.status_code == 303
    assert [reload(db_session, r).status for r in (first, second, third)] == [
        "confirmed",
        "confirmed",
        "waitlisted",
    ]
    assert len(outbox(db_session, "registration_promoted")) == 2
    assert "2 people moved up from the waiting list." in staff.get(response.headers["Location"]).get_data(
        as_text=True
    )

    lower = staff.post(url, data={**session_form(event.consultation_id, capacity="2"), "csrf_token": token})
    assert lower.status_code == 409
    assert "3 people already have a confirmed place" in lower.get_data(as_text=True)
    assert reload(db_session, event).capacity == 3


def test_cancel_asks_first_then_tells_every_live_registration(staff, db_session):
    event = make_event_session(db_session)
    live = [
        make_registration(db_session, event, "confirmed"),
        make_registration(db_session, event, "waitlisted"),
    ]
    make_registration(db_session, event, "cancelled")
    url = f"/en/organiser/sessions/{event.id}/cancel"
    confirm = staff.get(url)
    assert "2 people registered or waiting will get an e-mail" in confirm.get_data(as_text=True)
    assert reload(db_session, event).status == "published"  # GET changes nothing
    staff.post(url, data={"csrf_token": csrf_token(confirm.get_data(as_text=True))})
    assert reload(db_session, event).status == "cancelled"
    assert sorted(m.recipient for m in outbox(db_session, "session_cancelled")) == sorted(
        r.email for r in live
    )
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "session.cancel")).one()
    assert entry.details == {"notified": 2}
    # a cancelled session cannot be edited or published again
    assert staff.get(f"/en/organiser/sessions/{event.id}/edit").status_code == 303
    staff.post(
        f"/en/organiser/sessions/{event.id}/publish",
        data={"csrf_token": csrf_token(confirm.get_data(as_text=True))},
    )
    assert reload(db_session, event).status == "cancelled"


def test_copy_a_regional_consultation_to_another_oblast_as_a_draft(staff, db_session):
    event = make_event_session(db_session, region="KG-N")
    make_registration(db_session, event)
    url = f"/en/organiser/sessions/{event.id}/copy"
    token = token_from(staff, url)
    response = staff.post(url, data={"region": "KG-T", "starts_at": "2031-11-01T10:00", "csrf_token": token})
    assert response.status_code == 303
    copy = db_session.scalars(select(EventSession).where(EventSession.id != event.id)).one()
    assert (copy.status, copy.region, copy.title, copy.capacity) == (
        "draft",
        "KG-T",
        event.title,
        event.capacity,
    )
    assert copy.slug != event.slug
    assert copy.starts_at == datetime(2031, 11, 1, 4, 0, tzinfo=UTC)
    assert copy.ends_at - copy.starts_at == event.ends_at - event.starts_at
    assert copy.registrations == []
    assert response.headers["Location"].endswith(f"/organiser/sessions/{copy.id}/edit")
    assert audit_actions(db_session) == ["session.copy"]


def test_dashboard_lists_upcoming_sessions_with_counts(staff, db_session):
    event = make_event_session(db_session, capacity=7)
    make_registration(db_session, event, "confirmed")
    make_registration(db_session, event, "waitlisted")
    page = staff.get("/en/organiser/").get_data(as_text=True)
    assert "Consultation in Naryn" in page
    assert "<td>1</td><td>1</td><td>7</td><td>0</td>" in page


def test_registrations_filter_and_search_including_kyrgyz_letters(staff, db_session):
    event = make_event_session(db_session)
    make_registration(db_session, event, full_name="Айгүл Токтогулова", sex="female", sector="civil_society")
    make_registration(db_session, event, full_name="Бакыт Осмонов", sex="male", sector="state", region="KG-O")
    make_registration(
        db_session,
        event,
        "waitlisted",
        full_name="Нурлан Асанов",
        sex="male",
        organisation="Ассоциация Өнүгүү",
    )
    url = f"/en/organiser/sessions/{event.id}/registrations"

    def names(query):
        page = staff.get(url + query).get_data(as_text=True)
        return [n for n in ("Айгүл Токтогулова", "Бакыт Осмонов", "Нурлан Асанов") if n in page]

    assert names("") == ["Айгүл Токтогулова", "Бакыт Осмонов", "Нурлан Асанов"]
    assert names("?sex=male") == ["Бакыт Осмонов", "Нурлан Асанов"]
    assert names("?status=waitlisted") == ["Нурлан Асанов"]
    assert names("?sector=state") == ["Бакыт Осмонов"]
    assert names("?region=KG-O") == ["Бакыт Осмонов"]
    assert names("?q=айгүл") == ["Айгүл Токтогулова"]  # lower-case Cyrillic finds the capitalised name
    assert names("?q=ӨНҮГҮҮ") == ["Нурлан Асанов"]  # organisation, any case
    assert names("?sex=robot") == [
        "Айгүл Токтогулова",
        "Бакыт Осмонов",
        "Нурлан Асанов",
    ]  # unknown filter ignored


def change_status(staff, registration, status, over_capacity=False, token=None):
    data = {"csrf_token": token, "status": status}
    if over_capacity:
        data["over_capacity"] = "y"
    return staff.post(f"/en/organiser/registrations/{registration.id}/status", data=data)


def test_manual_status_changes_keep_the_waiting_list_rules(staff, db_session):
    event = make_event_session(db_session, capacity=1)
    seated = make_registration(db_session, event, "confirmed")
    waiting = make_registration(db_session, event, "waitlisted")
    later = make_registration(db_session, event, "waitlisted")
    token = token_from(staff, f"/en/organiser/sessions/{event.id}/registrations")

    # no place: confirming needs the explicit over-capacity box
    response = change_status(staff, later, "confirmed", token=token)
    assert "No place is left" in staff.get(response.headers["Location"]).get_data(as_text=True)
    assert reload(db_session, later).status == "waitlisted"

    # cancelling frees the place for the oldest waiting person, not the one the organiser looked at
    change_status(staff, seated, "cancelled", token=token)
    assert [reload(db_session, r).status for r in (seated, waiting, later)] == [
        "cancelled",
        "confirmed",
        "waitlisted",
    ]

    # a confirmed person is not moved back to the waiting list
    change_status(staff, waiting, "waitlisted", token=token)
    assert reload(db_session, waiting).status == "confirmed"

    # over capacity on purpose
    change_status(staff, later, "confirmed", over_capacity=True, token=token)
    assert reload(db_session, later).status == "confirmed"
    assert len(outbox(db_session, "registration_promoted")) == 2
    entries = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "registration.status")).all()
    assert [(e.object_id, e.details["new"], e.details["over_capacity"]) for e in entries] == [
        (seated.id, "cancelled", False),
        (later.id, "confirmed", True),
    ]
    assert entries[0].details["promoted"] == [waiting.id]


def test_check_in_at_the_door_with_one_click(staff, db_session):
    event = make_event_session(db_session)
    person = make_registration(db_session, event, full_name="Айгүл Токтогулова")
    waiting = make_registration(db_session, event, "waitlisted", full_name="Нурлан Асанов")
    door = staff.get(f"/en/organiser/sessions/{event.id}/door?q=айгүл")
    page = door.get_data(as_text=True)
    assert "Айгүл Токтогулова" in page and "Нурлан Асанов" not in page
    back = f"/en/organiser/sessions/{event.id}/door?q=%D0%B0"
    response = staff.post(
        f"/en/organiser/registrations/{person.id}/check-in",
        data={"csrf_token": csrf_token(page), "back": back},
    )
    assert response.status_code == 303 and response.headers["Location"] == back
    first_time = reload(db_session, person).checked_in_at
    assert first_time is not None
    staff.post(f"/en/organiser/registrations/{person.id}/check-in", data={"csrf_token": csrf_token(page)})
    assert reload(db_session, person).checked_in_at == first_time  # a double tap keeps the first time
    staff.post(f"/en/organiser/registrations/{waiting.id}/check-in", data={"csrf_token": csrf_token(page)})
    assert reload(db_session, waiting).checked_in_at is None
    staff.post(
        f"/en/organiser/registrations/{person.id}/check-in",
        data={"csrf_token": csrf_token(page), "undo": "1"},
    )
    assert reload(db_session, person).checked_in_at is None
    # an off-site "back" is ignored
    evil = staff.post(
        f"/en/organiser/registrations/{person.id}/check-in",
        data={"csrf_token": csrf_token(page), "back": "https://evil.example/"},
    )
    assert evil.headers["Location"] == f"/en/organiser/sessions/{event.id}/registrations"
    assert audit_actions(db_session) == [
        "registration.check_in",
        "registration.check_in",
        "registration.check_in_undo",
        "registration.check_in",
    ]


def test_walk_in_is_confirmed_and_checked_in_even_after_the_deadline_and_when_full(staff, db_session):
    event = make_event_session(db_session, capacity=1)
    make_registration(db_session, event, "confirmed")
    event.registration_deadline = datetime(2020, 1, 1, tzinfo=UTC)
    db_session.commit()
    url = f"/en/organiser/sessions/{event.id}/walk-in"
    token = token_from(staff, url)
    data = registration_form(email="", full_name="Гүлнара Бекова")
    data.pop("consent")
    response = staff.post(url, data={**data, "csrf_token": token})
    assert response.status_code == 303
    walk_in = db_session.scalars(select(Registration).where(Registration.source == "walk_in")).one()
    assert (walk_in.status, walk_in.full_name, walk_in.email) == ("confirmed", "Гүлнара Бекова", "")
    assert walk_in.checked_in_at is not None
    # a second walk-in without e-mail is a different person; one with e-mail gets the confirmation
    staff.post(url, data={**data, "full_name": "Эрмек Садыков", "csrf_token": token})
    staff.post(url, data={**data, "email": "kanykei@example.kg", "csrf_token": token})
    assert len(db_session.scalars(select(Registration).where(Registration.source == "walk_in")).all()) == 3
    assert [m.recipient for m in outbox(db_session, "registration_confirmed")] == ["kanykei@example.kg"]
    again = staff.post(url, data={**data, "email": "KANYKEI@example.kg", "csrf_token": token})
    assert again.status_code == 409
    assert "already registered" in again.get_data(as_text=True)
    assert audit_actions(db_session).count("registration.walk_in") == 3


def test_walk_in_is_refused_for_a_cancelled_session(staff, db_session):
    event = make_event_session(db_session, status="cancelled")
    url = f"/en/organiser/sessions/{event.id}/walk-in"
    data = registration_form()
    response = staff.post(url, data={**data, "csrf_token": token_from(staff, url)})
    assert response.status_code == 409
    assert "cancelled" in response.get_data(as_text=True)


def test_unknown_ids_are_404(staff, db_session):
    assert staff.get("/en/organiser/sessions/999/registrations").status_code == 404
    assert staff.get("/en/organiser/sessions/999/edit").status_code == 404

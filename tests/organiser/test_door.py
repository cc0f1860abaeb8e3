"""The door page on a phone: search first, check-in that comes back to the same person, walk-ins, and the
desk phone that keeps its language when it opens a participant's link."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from eventreg.models import Registration
from tests.auth_helpers import login_as, make_user
from tests.factories import csrf_token, make_event_session, make_registration, registration_form


@pytest.fixture
def organiser(app, db_session):
    return make_user(db_session, role="organiser")


@pytest.fixture
def desk(app, organiser):
    phone = app.test_client()
    login_as(phone, app, organiser)
    return phone


def reload(db_session, registration) -> Registration:
    db_session.expire_all()
    return db_session.get(Registration, registration.id)


def door_url(event, lang="ky", **query) -> str:
    query_string = "&".join(f"{k}={quote(str(v))}" for k, v in query.items())
    return f"/{lang}/organiser/sessions/{event.id}/door" + (f"?{query_string}" if query_string else "")


def test_search_by_name_organisation_phone_and_code_any_case(desk, db_session):
    event = make_event_session(db_session, capacity=10)
    aigul = make_registration(db_session, event, full_name="Айгүл Токтогулова", phone="+996 555 12 34 56")
    nurlan = make_registration(db_session, event, full_name="Нурлан Асанов", organisation="ӨНҮГҮҮ фонду")
    make_registration(db_session, event, "waitlisted", full_name="Айгүл Күтүүдө")

    def found(q):
        page = desk.get(door_url(event, q=q)).get_data(as_text=True)
        return {name for name in ("Айгүл Токтогулова", "Нурлан Асанов", "Айгүл Күтүүдө") if name in page}

    assert found("АЙГҮЛ") == {"Айгүл Токтогулова"}  # upper case, Kyrgyz letters; waitlisted not listed
    assert found("өнүгүү") == {"Нурлан Асанов"}
    assert found("555123456") == {"Айгүл Токтогулова"}
    assert found(nurlan.token[:16]) == {"Нурлан Асанов"}  # the start of the code a QR reader shows
    assert found(f"https://consult.example.kg/ru/r/{aigul.token}") == {"Айгүл Токтогулова"}
    page = desk.get(door_url(event)).get_data(as_text=True)
    # search box first, and the attended / confirmed count always on the page
    assert page.index('id="door-q"') < page.index("Айгүл Токтогулова")
    assert "0 attended / 2 confirmed" in desk.get(door_url(event, "en")).get_data(as_text=True)
    assert "<script" not in page


def test_check_in_comes_back_to_the_same_person_with_the_search_kept_and_twice_says_when(desk, db_session):
    event = make_event_session(db_session, capacity=10)
    person = make_registration(db_session, event, full_name="Айгүл Токтогулова")
    page = desk.get(door_url(event, "en", q="айгүл")).get_data(as_text=True)
    back = f"/en/organiser/sessions/{event.id}/door?q=%D0%B0%D0%B9%D0%B3%D2%AF%D0%BB&done={person.id}#reg-{person.id}"
    assert f'value="{back}"' in page.replace("&amp;", "&")
    response = desk.post(
        f"/en/organiser/registrations/{person.id}/check-in",
        data={"csrf_token": csrf_token(page), "back": back},
    )
    assert response.status_code == 303 and response.headers["Location"] == back
    first = reload(db_session, person).checked_in_at
    assert first is not None
    after = desk.get(back.split("#")[0]).get_data(as_text=True)
    assert f'id="reg-{person.id}"' in after and "is-done" in after and "1 attended / 1 confirmed" in after
    # the same code scanned again (a second phone, a stale page): the first time stays and is said
    again = desk.post(
        f"/en/organiser/registrations/{person.id}/check-in",
        data={"csrf_token": csrf_token(page), "back": back},
        follow_redirects=True,
    ).get_data(as_text=True)
    local = first.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Bishkek")).strftime("%H:%M")
    assert f"Айгүл Токтогулова was already checked in at {local}." in again
    assert reload(db_session, person).checked_in_at == first


def test_check_in_by_the_opened_link_twice_and_the_desk_keeps_its_language(desk, client, db_session):
    event = make_event_session(db_session, capacity=10)
    person = make_registration(db_session, event, full_name="Айгүл Токтогулова", locale="en")
    desk.get(door_url(event, "ky"))  # the organiser works in Kyrgyz
    # the QR code holds the participant's English link; the desk phone stays in Kyrgyz
    opened = desk.get(f"/en/r/{person.token}")
    assert opened.status_code == 303 and opened.headers["Location"] == f"/ky/r/{person.token}"
    page = desk.get(f"/ky/r/{person.token}").get_data(as_text=True)
    assert 'lang="ky"' in page
    desk.post(
        f"/ky/organiser/registrations/{person.id}/check-in",
        data={"csrf_token": csrf_token(page), "back": f"/ky/r/{person.token}"},
    )
    assert reload(db_session, person).checked_in_at is not None
    second = desk.post(
        f"/ky/organiser/registrations/{person.id}/check-in",
        data={"csrf_token": csrf_token(page), "back": f"/ky/r/{person.token}"},
        follow_redirects=True,
    )
    assert second.status_code == 200
    # the participant's own phone is not redirected anywhere
    assert client.get(f"/en/r/{person.token}").status_code == 200


def test_walk_in_from_the_door_page_comes_back_to_the_new_row(desk, db_session):
    event = make_event_session(db_session, capacity=1)
    make_registration(db_session, event)
    door = desk.get(door_url(event, "en")).get_data(as_text=True)
    assert f"/en/organiser/sessions/{event.id}/walk-in" in door
    form = desk.get(f"/en/organiser/sessions/{event.id}/walk-in").get_data(as_text=True)
    data = registration_form(full_name="Гүлнара Жолдошева", email="")
    data["csrf_token"] = csrf_token(form)
    response = desk.post(f"/en/organiser/sessions/{event.id}/walk-in", data=data)
    assert response.status_code == 303
    walk_in = db_session.query(Registration).filter_by(full_name="Гүлнара Жолдошева").one()
    assert response.headers["Location"].endswith(f"done={walk_in.id}#reg-{walk_in.id}")
    assert walk_in.checked_in_at is not None and walk_in.status == "confirmed"

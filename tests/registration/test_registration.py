"""The registration journey a participant goes through, in each language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventreg.models import OutboxMessage, Registration
from tests.factories import csrf_token, make_event_session, now, registration_form


def register(client, slug, lang="ru", **fields):
    page = client.get(f"/{lang}/sessions/{slug}")
    data = registration_form(**fields)
    data["csrf_token"] = csrf_token(page.get_data(as_text=True))
    return client.post(f"/{lang}/sessions/{slug}", data=data)


def registrations(db_session, **where):
    stmt = select(Registration).order_by(Registration.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(Registration, key) == value)
    db_session.expire_all()
    return list(db_session.scalars(stmt))


def test_register_confirms_and_gives_a_personal_link(client, db_session):
    event = make_event_session(db_session, capacity=5)
    response = register(client, event.slug, lang="ky", email="  Aigul.T@Example.KG ")
    assert response.status_code == 303
    (reg,) = registrations(db_session)
    assert reg.status == "confirmed"
    assert reg.locale == "ky"
    assert reg.email_normalized == "aigul.t@example.kg"
    assert len(reg.token) >= 43  # 256 bits, URL-safe
    assert response.headers["Location"].endswith(f"/ky/r/{reg.token}?welcome=1")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"/ky/r/{reg.token}" in page
    assert 'lang="ky"' in page
    # the confirmation waits in the outbox, in the participant's language, with a BASE_URL link
    message = db_session.scalars(select(OutboxMessage)).one()
    assert message.recipient == reg.email
    assert f"https://consult.example.kg/ky/r/{reg.token}" in message.body_text


def test_tokens_are_random_and_unrelated(client, db_session):
    event = make_event_session(db_session, capacity=5)
    register(client, event.slug)
    register(client, event.slug)
    first, second = registrations(db_session)
    assert first.token != second.token
    assert first.token[:8] != second.token[:8]
    assert client.get(f"/ru/r/{first.token[:-1]}x").status_code == 404


def test_full_session_waitlists_with_position_and_promotes_oldest_on_cancel(client, db_session):
    event = make_event_session(db_session, capacity=1)
    register(client, event.slug, email="first@example.kg")
    second = register(client, event.slug, lang="en", email="second@example.kg")
    register(client, event.slug, email="third@example.kg")
    first_reg, second_reg, third_reg = registrations(db_session)
    assert [r.status for r in (first_reg, second_reg, third_reg)] == ["confirmed", "waitlisted", "waitlisted"]
    welcome = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "number 1 on the waiting list" in welcome
    assert "number 2 on the waiting list" in client.get(f"/en/r/{third_reg.token}").get_data(as_text=True)

    # GET shows a confirmation step and changes nothing
    confirm_page = client.get(f"/ru/r/{first_reg.token}/cancel")
    assert confirm_page.status_code == 200
    assert registrations(db_session)[0].status == "confirmed"

    token = csrf_token(confirm_page.get_data(as_text=True))
    response = client.post(f"/ru/r/{first_reg.token}/cancel", data={"csrf_token": token})
    assert response.status_code == 303
    first_reg, second_reg, third_reg = registrations(db_session)
    assert first_reg.status == "cancelled"
    assert second_reg.status == "confirmed" and second_reg.promoted_at is not None
    assert third_reg.status == "waitlisted"
    assert "number 1 on the waiting list" in client.get(f"/en/r/{third_reg.token}").get_data(as_text=True)
    kinds = [m.kind for m in db_session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert kinds[-2:] == ["registration_cancelled", "registration_promoted"]


def test_cancel_without_csrf_token_changes_nothing(client, db_session):
    event = make_event_session(db_session)
    register(client, event.slug)
    (reg,) = registrations(db_session)
    response = client.post(f"/ru/r/{reg.token}/cancel", data={})
    assert response.status_code == 400
    assert registrations(db_session)[0].status == "confirmed"


@pytest.mark.parametrize("variant", ["Aigul@Example.kg", "  aigul@example.kg  ", "AIGUL@EXAMPLE.KG"])
def test_registering_twice_creates_nothing_new(client, db_session, variant):
    event = make_event_session(db_session)
    register(client, event.slug, email="aigul@example.kg")
    response = register(client, event.slug, lang="en", email=variant)
    # Answered like the lost-link form, so nobody can check whether an address registered.
    assert response.status_code == 303
    assert response.headers["Location"] == f"/en/sessions/{event.slug}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "If this address is registered for the session, we have sent its personal link to it." in page
    assert "You are already registered for this session" not in page
    assert len(registrations(db_session)) == 1
    (reg,) = registrations(db_session)
    links = db_session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "registration_link")).all()
    assert len(links) == 1 and reg.token in links[0].body_text and links[0].recipient == "aigul@example.kg"
    # a stranger asking for the link gets the very same answer
    page = client.get(f"/en/sessions/{event.slug}").get_data(as_text=True)
    stranger = client.post(
        f"/en/sessions/{event.slug}/link", data={"email": "who@example.kg", "csrf_token": csrf_token(page)}
    )
    assert (stranger.status_code, stranger.headers["Location"]) == (303, response.headers["Location"])


def test_lost_link_is_sent_to_the_registered_address_only(client, db_session):
    event = make_event_session(db_session)
    register(client, event.slug, email="aigul@example.kg")
    page = client.get(f"/en/sessions/{event.slug}").get_data(as_text=True)
    for email in ("AIGUL@example.kg", "stranger@example.kg"):
        response = client.post(
            f"/en/sessions/{event.slug}/link", data={"email": email, "csrf_token": csrf_token(page)}
        )
        assert response.status_code == 303
        # the same answer either way, so nobody learns who registered
        assert "If this address is registered" in client.get(response.headers["Location"]).get_data(
            as_text=True
        )
    links = db_session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "registration_link")).all()
    assert [m.recipient for m in links] == ["aigul@example.kg"]


def test_cancelled_person_may_register_again(client, db_session):
    event = make_event_session(db_session)
    register(client, event.slug, email="aigul@example.kg")
    (reg,) = registrations(db_session)
    page = client.get(f"/ru/r/{reg.token}/cancel").get_data(as_text=True)
    client.post(f"/ru/r/{reg.token}/cancel", data={"csrf_token": csrf_token(page)})
    assert register(client, event.slug, email="aigul@example.kg").status_code == 303
    assert [r.status for r in registrations(db_session)] == ["cancelled", "confirmed"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"registration_deadline": now() - timedelta(minutes=1)}, "the deadline has passed"),
        ({"status": "cancelled"}, "This session has been cancelled"),
        ({"capacity": 0, "waitlist_enabled": False}, "full and has no waiting list"),
    ],
    ids=["deadline", "cancelled", "full-no-waitlist"],
)
def test_closed_registration_says_so_and_stores_nothing(client, db_session, overrides, message):
    event = make_event_session(db_session, **overrides)
    page = client.get(f"/en/sessions/{event.slug}")
    assert message in page.get_data(as_text=True)
    assert 'name="full_name"' not in page.get_data(as_text=True)
    # a form posted anyway (a tab left open since before) is refused the same way
    open_page = client.get(f"/en/sessions/{make_event_session(db_session).slug}").get_data(as_text=True)
    data = registration_form(csrf_token=csrf_token(open_page))
    response = client.post(f"/en/sessions/{event.slug}", data=data)
    assert response.status_code == 409
    assert message in response.get_data(as_text=True)
    assert registrations(db_session) == []
    assert db_session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_invalid_form_comes_back_with_everything_typed(client, db_session):
    event = make_event_session(db_session)
    page = client.get(f"/en/sessions/{event.slug}").get_data(as_text=True)
    data = registration_form(email="not-an-address", organisation="", region="KG-XX", consent="")
    data["accessibility_needs"] = "Нужен пандус; көрүү боюнча жардам"
    data["csrf_token"] = csrf_token(page)
    response = client.post(f"/en/sessions/{event.slug}", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Enter an e-mail address like name@example.kg." in html
    assert "Enter the name of your organisation." in html
    assert "Please choose one of the options offered." in html
    assert "Please give your consent" in html
    # The summary at the top names the problem in the title and links to each field.
    assert "<title>Error: " in html
    assert '<a href="#email">Enter an e-mail address like name@example.kg.</a>' in html
    assert '<a href="#organisation">' in html
    assert 'value="not-an-address"' in html
    assert data["full_name"] in html
    assert "Нужен пандус; көрүү боюнча жардам" in html
    assert registrations(db_session) == []


def test_expired_form_keeps_what_was_typed(client, db_session):
    event = make_event_session(db_session)
    data = registration_form(full_name="Жылдыз Асанова")
    data["csrf_token"] = "expired-or-forged"
    response = client.post(f"/ky/sessions/{event.slug}", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Жылдыз Асанова" in html
    assert 'name="csrf_token"' in html  # a fresh token, so sending again works
    assert registrations(db_session) == []
    resend = dict(data, csrf_token=csrf_token(html))
    assert client.post(f"/ky/sessions/{event.slug}", data=resend).status_code == 303


def test_change_details_keeps_place(client, db_session):
    event = make_event_session(db_session, capacity=1)
    register(client, event.slug, email="a@example.kg")
    register(client, event.slug, email="b@example.kg")
    reg = registrations(db_session)[1]
    page = client.get(f"/en/r/{reg.token}/edit").get_data(as_text=True)
    assert 'value="b@example.kg"' in page
    data = registration_form(email="b@example.kg", organisation="Министерство труда")
    data.pop("consent")
    data["csrf_token"] = csrf_token(page)
    response = client.post(f"/en/r/{reg.token}/edit", data=data)
    assert response.status_code == 303
    reg = registrations(db_session)[1]
    assert reg.organisation == "Министерство труда"
    assert reg.status == "waitlisted"
    # taking someone else's address in the same session is refused
    data["email"] = "A@example.kg"
    response = client.post(f"/en/r/{reg.token}/edit", data=data)
    assert response.status_code == 409
    assert registrations(db_session)[1].email == "b@example.kg"


def test_oversized_request_gets_a_413_page(client, db_session):
    event = make_event_session(db_session)
    data = registration_form(accessibility_needs="я" * (3 * 1024 * 1024))
    response = client.post(f"/ky/sessions/{event.slug}", data=data)
    assert response.status_code == 413
    assert 'lang="ky"' in response.get_data(as_text=True)


def test_malformed_values_never_500(client, db_session):
    event = make_event_session(db_session)
    page = client.get(f"/en/sessions/{event.slug}").get_data(as_text=True)
    for bad in (
        {"sex": "x" * 500},
        {"email": "a@" + "b" * 300 + ".kg"},
        {"phone": "=HYPERLINK(1)"},
        {"full_name": "\x00\x01"},
        {"interpretation_language": "de"},
    ):
        data = registration_form(**bad, csrf_token=csrf_token(page))
        response = client.post(f"/en/sessions/{event.slug}", data=data)
        assert response.status_code == 400, bad
    assert client.get("/en/r/" + "x" * 5000).status_code == 404
    assert client.get("/en/sessions/no-such-session").status_code == 404
    assert registrations(db_session) == []


def test_html_in_names_is_shown_as_text(client, db_session):
    event = make_event_session(db_session)
    response = register(client, event.slug, full_name="<script>alert(1)</script>")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_english_form_does_not_preselect_a_language_the_session_is_not_held_in(client, db_session):
    event = make_event_session(db_session, languages=["ru", "ky"])
    html = client.get(f"/en/sessions/{event.slug}").get_data(as_text=True)
    select = html[html.index('<select id="interpretation_language"') :]
    select = select[: select.index("</select>")]
    assert 'value="en"' not in select
    assert "selected" not in select
    # A Russian reader of the same session gets Russian preselected.
    html = client.get(f"/ru/sessions/{event.slug}").get_data(as_text=True)
    assert '<option selected value="ru">' in html


def test_favicon_and_identity_on_every_page(client, db_session):
    event = make_event_session(db_session)
    assert client.get("/favicon.ico").status_code == 200
    html = client.get(f"/ky/sessions/{event.slug}").get_data(as_text=True)
    assert 'rel="icon"' in html
    assert "· eventreg" not in html
    assert '<meta name="description"' in html and 'property="og:title"' in html


def test_where_places_are_held_registering_twice_looks_like_registering(client, db_session):
    event = make_event_session(db_session, capacity=5, hold_places=True)
    new = register(client, event.slug, lang="en", email="held@example.kg")
    again = register(client, event.slug, lang="en", email="HELD@example.kg")
    assert (new.status_code, again.status_code) == (303, 303)
    assert new.headers["Location"] == again.headers["Location"]  # "check your e-mail" both times
    assert len(registrations(db_session)) == 1
    kinds = [m.kind for m in db_session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert kinds[-1] == "registration_link"

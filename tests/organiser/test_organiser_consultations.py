"""The organiser sets up consultations: create, edit, slug rules, comment period in Bishkek time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from eventreg.models import AuditEntry, Consultation
from tests.auth_helpers import login_as, make_user
from tests.factories import csrf_token, make_consultation


@pytest.fixture
def organiser(app, db_session):
    return make_user(db_session, role="organiser", email="organiser@example.kg")


@pytest.fixture
def staff(app, client, organiser):
    login_as(client, app, organiser)
    return client


def consultation_form(**overrides) -> dict:
    data = {
        "slug": "gender-strategy-2030",
        "title_ru": "Национальная стратегия по достижению гендерного равенства до 2030 года",
        "title_ky": "Гендердик теңчиликке жетүү боюнча улуттук стратегия",
        "title_en": "National Gender Equality Strategy to 2030",
        "description_ru": "Обсуждение проекта",
        "description_ky": "",
        "description_en": "",
        "comments_open_at": "2031-10-01T09:00",
        "comments_close_at": "2031-11-01T18:00",
    }
    data.update(overrides)
    return data


def token_from(client, url):
    return csrf_token(client.get(url).get_data(as_text=True))


def audit_entries(db_session):
    db_session.expire_all()
    return list(db_session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_create_a_consultation_from_an_empty_database(staff, db_session, organiser):
    dashboard = staff.get("/en/organiser/").get_data(as_text=True)
    assert "Start by creating a consultation" in dashboard
    assert "/en/organiser/sessions/new" not in dashboard  # nothing to attach a session to yet

    token = token_from(staff, "/en/organiser/consultations/new")
    response = staff.post(
        "/en/organiser/consultations/new", data={**consultation_form(), "csrf_token": token}
    )
    assert response.status_code == 303
    consultation = db_session.scalars(select(Consultation)).one()
    assert consultation.slug == "gender-strategy-2030"
    assert consultation.title["ky"] == "Гендердик теңчиликке жетүү боюнча улуттук стратегия"
    assert consultation.description == {"ru": "Обсуждение проекта"}  # empty languages are not stored
    # 09:00 in Bishkek (UTC+6) is 03:00 UTC
    assert consultation.comments_open_at == datetime(2031, 10, 1, 3, 0, tzinfo=UTC)
    assert consultation.comments_close_at == datetime(2031, 11, 1, 12, 0, tzinfo=UTC)
    [entry] = audit_entries(db_session)
    assert (entry.action, entry.user_id, entry.object_id) == (
        "consultation.create",
        organiser.id,
        consultation.id,
    )

    listing = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "The consultation is saved" in listing
    assert "National Gender Equality Strategy to 2030" in listing
    assert "Opens: " in listing
    dashboard = staff.get("/en/organiser/").get_data(as_text=True)
    assert "Start by creating a consultation" not in dashboard
    assert "/en/organiser/sessions/new" in dashboard
    # and the session form now offers it
    assert "National Gender Equality Strategy to 2030" in staff.get("/en/organiser/sessions/new").get_data(
        as_text=True
    )


def test_new_session_without_any_consultation_leads_to_creating_one(staff, db_session):
    response = staff.get("/en/organiser/sessions/new")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/en/organiser/consultations/new")
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "Create a consultation first" in page


def test_edit_keeps_the_times_in_bishkek_time_and_records_what_changed(staff, db_session, organiser):
    consultation = make_consultation(
        db_session,
        slug="action-plan",
        comments_open_at=datetime(2031, 10, 1, 3, 0, tzinfo=UTC),
        comments_close_at=datetime(2031, 11, 1, 12, 0, tzinfo=UTC),
    )
    url = f"/en/organiser/consultations/{consultation.id}/edit"
    form = staff.get(url).get_data(as_text=True)
    assert 'value="2031-10-01T09:00"' in form and 'value="2031-11-01T18:00"' in form
    assert "Стратегиянын долбоорун талкуулоо" in form
    response = staff.post(
        url,
        data={
            **consultation_form(slug="action-plan", title_en="Action plan 2021–2023"),
            "csrf_token": csrf_token(form),
        },
    )
    assert response.status_code == 303
    db_session.expire_all()
    consultation = db_session.get(Consultation, consultation.id)
    assert consultation.title["en"] == "Action plan 2021–2023"
    [entry] = audit_entries(db_session)
    assert entry.action == "consultation.edit" and entry.user_id == organiser.id
    assert set(entry.details["changed"]) == {"title", "description"}

    # leaving both times empty closes comments without an error
    staff.post(
        url,
        data={
            **consultation_form(slug="action-plan", comments_open_at="", comments_close_at=""),
            "csrf_token": csrf_token(form),
        },
    )
    db_session.expire_all()
    assert db_session.get(Consultation, consultation.id).comments_open_at is None
    assert "Not open for comments" in staff.get("/en/organiser/consultations").get_data(as_text=True)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title_ru": "", "title_ky": "", "title_en": ""}, "Please give a title in at least one language."),
        ({"slug": "Гендер 2030"}, "Please use only small Latin letters, digits and single hyphens"),
        ({"slug": "strategy--2030"}, "Please use only small Latin letters, digits and single hyphens"),
        ({"slug": ""}, "Please fill in this field."),
        ({"comments_close_at": "2031-09-01T09:00"}, "Comments must close after they open."),
        ({"comments_close_at": ""}, "Please give both the opening and the closing time"),
        ({"comments_open_at": "yesterday"}, "Not a valid datetime value"),
    ],
)
def test_bad_input_is_refused_and_what_was_typed_stays(staff, db_session, overrides, message):
    token = token_from(staff, "/en/organiser/consultations/new")
    response = staff.post(
        "/en/organiser/consultations/new", data={**consultation_form(**overrides), "csrf_token": token}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert "Обсуждение проекта" in page
    assert db_session.scalars(select(Consultation)).all() == []
    assert audit_entries(db_session) == []


def test_the_summary_names_the_field_a_generic_message_is_about(staff, db_session):
    token = token_from(staff, "/ky/organiser/consultations/new")
    response = staff.post(
        "/ky/organiser/consultations/new", data={**consultation_form(slug=""), "csrf_token": token}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    # "Fill in this field" alone does not say which one: at the top it carries the field's label.
    assert '<a href="#slug">Веб-даректер үчүн кыска ат: Бул талааны толтуруңуз.</a>' in page


def test_a_taken_slug_gets_a_translated_message(staff, db_session):
    existing = make_consultation(db_session, slug="gender-strategy-2030")
    other = make_consultation(db_session, slug="action-plan")
    token = token_from(staff, "/ru/organiser/consultations/new")
    response = staff.post(
        "/ru/organiser/consultations/new", data={**consultation_form(), "csrf_token": token}
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'id="slug-errors"' in page  # the message sits next to the field, in the page's language
    assert "Гендердик теңчиликке жетүү" in page

    english = staff.post("/en/organiser/consultations/new", data={**consultation_form(), "csrf_token": token})
    assert "Another consultation already uses this short name" in english.get_data(as_text=True)

    edit = staff.post(
        f"/en/organiser/consultations/{other.id}/edit",
        data={**consultation_form(slug=existing.slug), "csrf_token": token},
    )
    assert edit.status_code == 409
    db_session.expire_all()
    assert db_session.get(Consultation, other.id).slug == "action-plan"
    # keeping its own slug is not a clash
    same = staff.post(
        f"/en/organiser/consultations/{other.id}/edit",
        data={**consultation_form(slug="action-plan"), "csrf_token": token},
    )
    assert same.status_code == 303


def test_expired_form_keeps_everything_typed(staff, db_session):
    response = staff.post(
        "/en/organiser/consultations/new", data={**consultation_form(), "csrf_token": "old"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The form had expired" in page
    assert "Гендердик теңчиликке жетүү боюнча улуттук стратегия" in page
    assert db_session.scalars(select(Consultation)).all() == []


def test_only_organisers_and_admins(app, client, db_session):
    consultation = make_consultation(db_session)
    assert client.get("/en/organiser/consultations").status_code in (302, 303)
    login_as(client, app, make_user(db_session, role="analyst"))
    assert client.get("/en/organiser/consultations").status_code == 403
    assert client.get(f"/en/organiser/consultations/{consultation.id}/edit").status_code == 403
    login_as(client, app, make_user(db_session, role="admin"))
    assert client.get("/en/organiser/consultations").status_code == 200
    assert client.get("/en/organiser/consultations/999/edit").status_code == 404

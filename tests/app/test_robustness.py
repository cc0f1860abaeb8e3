"""Odd input from anywhere gets a clear 4xx page, never a 500 - and typed text is never lost."""

from __future__ import annotations

import re

import pytest

from tests.auth_helpers import login_as, make_user
from tests.conftest import make_test_app
from tests.factories import csrf_token, make_event_session, registration_form

HUGE = "9" * 20


@pytest.mark.parametrize(
    "query", ["lang_code=en", "slug=x", "endpoint=x", "_anchor=x", "_scheme=x", "_external=1"]
)
def test_query_strings_cannot_break_the_language_switcher(client, db_session, query):
    event = make_event_session(db_session)
    for path in ("/ru/", f"/ru/sessions/{event.slug}", "/ky/privacy"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 200, path
        assert 'href="/ky/' in response.get_data(as_text=True) or 'href="/ru/' in response.get_data(
            as_text=True
        )


def test_ids_too_large_for_the_database_are_not_found(client, app, db_session):
    login_as(client, app, make_user(db_session, role="admin"))
    for path in (
        f"/ru/organiser/sessions/{HUGE}/edit",
        f"/ru/organiser/sessions/{HUGE}/door",
        f"/ru/organiser/comments/{HUGE}",
        f"/ru/admin/users/{HUGE}/password",
    ):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize(
    "path",
    [
        "/ru/organiser/comments/?document=²&session=²&page=²",
        f"/ru/organiser/comments/?document={HUGE}&session={HUGE}&page={HUGE}",
        f"/ru/organiser/comments/groups?document={HUGE}",
        f"/ru/admin/audit?user={HUGE}&page={HUGE}",
        "/ru/organiser/mail/?page=²",
        "/ru/reports/?consultation=²&document=²&session=²",
        f"/ru/reports/feedback?document={HUGE}",
        "/ru/reports/?date_from=0001-01-01&date_to=9999-12-31",
        "/ru/reports/comments.csv?date_from=0001-01-01",
    ],
)
def test_staff_filters_with_nonsense_get_a_page_not_an_error(client, app, db_session, path):
    login_as(client, app, make_user(db_session, role="admin"))
    response = client.get(path)
    assert response.status_code in (200, 400), response.status_code
    assert "Traceback" not in response.get_data(as_text=True)


def test_merge_into_an_impossible_comment_number_is_a_message(client, app, db_session):
    from tests.factories import make_comment, make_document

    comment = make_comment(db_session, make_document(db_session))
    login_as(client, app, make_user(db_session, role="organiser"))
    page = client.get(f"/en/organiser/comments/{comment.id}").get_data(as_text=True)
    response = client.post(
        f"/en/organiser/comments/{comment.id}/merge", data={"target": HUGE, "csrf_token": csrf_token(page)}
    )
    assert response.status_code == 400
    assert "Please enter a comment number" in response.get_data(as_text=True)


def test_session_dates_with_impossible_years_are_refused_with_a_message(client, app, db_session):
    event = make_event_session(db_session)
    login_as(client, app, make_user(db_session, role="organiser"))
    page = client.get(f"/en/organiser/sessions/{event.id}/edit").get_data(as_text=True)
    data = {name: value for name, value in re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', page)}
    data["starts_at"] = "0001-01-01T00:00"
    response = client.post(f"/en/organiser/sessions/{event.id}/edit", data=data)
    assert response.status_code == 400
    assert "Please enter a date between 2000 and 2100." in response.get_data(as_text=True)


def test_line_breaks_count_as_one_character(client, db_session):
    event = make_event_session(db_session)
    page = client.get(f"/en/sessions/{event.slug}").get_data(as_text=True)
    needs = "ab\r\n" * 666  # 2664 characters as sent, 1998 as typed: within the 2000 allowed
    data = registration_form(accessibility_needs=needs, csrf_token=csrf_token(page))
    assert client.post(f"/en/sessions/{event.slug}", data=data).status_code == 303


def test_rate_limited_post_gives_the_typed_text_back(database_url, tmp_path):
    import secrets

    app = make_test_app(database_url, tmp_path, RATELIMIT_ENABLED=True)
    from eventreg.extensions import db

    with app.app_context():
        slug = make_event_session(db.session, capacity=100).slug
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.8.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    token = csrf_token(client.get(f"/ky/sessions/{slug}").get_data(as_text=True))
    needs = "Кол арабасы үчүн пандус жана белгилер тилине котормо керек"
    responses = [
        client.post(
            f"/ky/sessions/{slug}", data=registration_form(csrf_token=token, accessibility_needs=needs)
        )
        for _ in range(31)
    ]
    refused = responses[-1]
    assert refused.status_code == 429
    html = refused.get_data(as_text=True)
    assert needs in html and "<textarea readonly" in html
    assert token not in html
    app.extensions["eventreg.db"]["engine"].dispose()


def test_behind_a_proxy_each_visitor_has_their_own_limit(database_url, tmp_path):
    import secrets

    app = make_test_app(database_url, tmp_path, RATELIMIT_ENABLED=True, PROXY_FIX_X_FOR=1)
    from eventreg.extensions import db

    with app.app_context():
        slug = make_event_session(db.session).slug
    client = app.test_client()
    page = client.get(f"/en/sessions/{slug}").get_data(as_text=True)
    base = f"10.7.{secrets.randbelow(250)}"

    def ask(last_octet: int) -> int:
        headers = {"X-Forwarded-For": f"{base}.{last_octet}"}
        data = {"email": "x@example.kg", "csrf_token": csrf_token(page)}
        return client.post(f"/en/sessions/{slug}/link", data=data, headers=headers).status_code

    assert [ask(1) for _ in range(6)] == [303] * 5 + [429]
    assert ask(2) == 303  # another visitor behind the same load balancer is not blocked
    app.extensions["eventreg.db"]["engine"].dispose()

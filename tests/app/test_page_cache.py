"""Public pages kept for a moment: every visitor still gets their own token, name and language."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from tests.auth_helpers import login_as, make_user
from tests.factories import csrf_token, make_consultation, make_event_session, registration_form
from tests.factories_consultation import comment_form, import_document

CACHE = "eventreg.page_cache"


@pytest.fixture
def app_config() -> dict:
    return {"PAGE_CACHE_SECONDS": 60}


def test_two_visitors_share_the_page_but_not_the_token(app, db_session):
    event = make_event_session(db_session, capacity=10)
    first, second = app.test_client(), app.test_client()
    page_one = first.get(f"/ru/sessions/{event.slug}").get_data(as_text=True)
    assert len(app.extensions[CACHE]) == 1
    page_two = second.get(f"/ru/sessions/{event.slug}").get_data(as_text=True)  # from the cache
    token_one, token_two = csrf_token(page_one), csrf_token(page_two)
    assert token_one != token_two
    assert "placeholder" not in page_two
    assert page_one.replace(token_one, "") == page_two.replace(token_two, "")
    # each token belongs to its own visitor's cookie: it works there and nowhere else
    assert (
        first.post(f"/ru/sessions/{event.slug}", data=registration_form(csrf_token=token_two)).status_code
        == 400
    )
    assert (
        second.post(f"/ru/sessions/{event.slug}", data=registration_form(csrf_token=token_two)).status_code
        == 303
    )


def test_each_language_is_its_own_page(client, db_session):
    make_event_session(db_session)
    for lang, heading in (("ru", "Консультация в Нарыне"), ("ky", "Нарындагы консультация")):
        for _ in range(2):
            html = client.get(f"/{lang}/").get_data(as_text=True)
            assert f'<html lang="{lang}">' in html
            assert heading in html


def test_a_write_in_this_process_empties_the_cache(app, db_session):
    event = make_event_session(db_session, capacity=10)
    visitor = app.test_client()
    page = visitor.get("/en/").get_data(as_text=True)
    assert "10 places left" in page
    token = csrf_token(visitor.get(f"/en/sessions/{event.slug}").get_data(as_text=True))
    assert (
        visitor.post(f"/en/sessions/{event.slug}", data=registration_form(csrf_token=token)).status_code
        == 303
    )
    assert "9 places left" in app.test_client().get("/en/").get_data(as_text=True)


def test_remembered_comment_details_are_never_shared(app, db_session):
    consultation = make_consultation(db_session)
    document = import_document(db_session, consultation)
    url = f"/ru/consultation/{consultation.slug}/{document.key}/comment"
    writer = app.test_client()
    token = csrf_token(writer.get(url).get_data(as_text=True))
    sent = writer.post(url, data=comment_form(csrf_token=token, name="Гүлнара Секретова"))
    assert sent.status_code == 303
    # the writer sees the form filled with her name; nobody else ever does
    assert "Гүлнара Секретова" in writer.get(url).get_data(as_text=True)
    for _ in range(2):
        stranger = app.test_client().get(url).get_data(as_text=True)
        assert "Гүлнара Секретова" not in stranger
    assert "Гүлнара Секретова" in writer.get(url).get_data(as_text=True)


def test_staff_and_flashed_messages_bypass_the_cache(app, db_session):
    make_event_session(db_session)
    anonymous = app.test_client()
    assert "Staff log in" in anonymous.get("/en/").get_data(as_text=True)
    staff = app.test_client()
    login_as(staff, app, make_user(db_session, role="organiser"))
    staff_page = staff.get("/en/").get_data(as_text=True)
    assert "Staff log in" not in staff_page
    assert "Staff log in" in app.test_client().get("/en/").get_data(as_text=True)


def test_cache_can_be_turned_off(database_url, tmp_path):
    from tests.conftest import make_test_app

    app = make_test_app(database_url, tmp_path, PAGE_CACHE_SECONDS=0)
    assert CACHE not in app.extensions
    app.extensions["eventreg.db"]["engine"].dispose()


@contextmanager
def two_workers(database_url, tmp_path):
    """Two workers of one machine (two apps sharing the instance folder and the database), and a session
    with 10 places that the first has cached as such."""
    from eventreg.extensions import db
    from tests.conftest import make_test_app

    (tmp_path / "instance").mkdir()
    this, sibling = (make_test_app(database_url, tmp_path, PAGE_CACHE_SECONDS=60) for _ in range(2))
    with this.app_context():
        event = make_event_session(db.session, capacity=10)
    assert "10 places left" in this.test_client().get("/en/").get_data(as_text=True)
    try:
        yield this, sibling, event
    finally:
        for app in (this, sibling):
            app.extensions["eventreg.db"]["engine"].dispose()


def register_through(app, event) -> None:
    visitor = app.test_client()
    token = csrf_token(visitor.get(f"/en/sessions/{event.slug}").get_data(as_text=True))
    response = visitor.post(f"/en/sessions/{event.slug}", data=registration_form(csrf_token=token))
    assert response.status_code == 303


def test_a_write_in_a_sibling_worker_empties_this_one(database_url, tmp_path):
    with two_workers(database_url, tmp_path) as (this, sibling, event):
        register_through(sibling, event)
        assert "9 places left" in this.test_client().get("/en/").get_data(as_text=True)


def test_workers_meet_again_when_the_stamp_file_is_replaced(database_url, tmp_path):
    """A stamp file replaced under the workers (a reload with an older version, a cleaned instance folder)
    must not leave them each on their own copy, blind to the other's writes."""
    import os

    from eventreg.page_cache import EXTENSION

    with two_workers(database_url, tmp_path) as (this, sibling, event):
        for app in (this, sibling):
            app.extensions[EXTENSION].stamp_recheck_seconds = 0  # look at the path on every request
        replacement = tmp_path / "instance" / "page-cache.stamp.new"
        replacement.write_bytes(b"another worker's")
        os.replace(replacement, tmp_path / "instance" / "page-cache.stamp")
        register_through(sibling, event)
        assert "9 places left" in this.test_client().get("/en/").get_data(as_text=True)

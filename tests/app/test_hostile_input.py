"""Hostile input found by fuzzing: each once answered 500 or sent people off-site; now a clear message."""

from __future__ import annotations

import io
import stat

import pytest
from sqlalchemy import func, select

from eventreg import config as config_module
from eventreg.mail.outbox import enqueue
from eventreg.mail.validation import Undeliverable, address_problem
from eventreg.models import Comment, OutboxMessage, Registration
from eventreg.security import is_safe_next
from tests.auth_helpers import login_as, make_user
from tests.factories import (
    csrf_token,
    make_document,
    make_event_session,
    make_registration,
    registration_form,
)
from tests.moderation.test_moderation import document_consultation, paper_form

COMMENTS = "/en/organiser/comments"


@pytest.fixture
def organiser(app, client, db_session):
    return login_as(client, app, make_user(db_session, "organiser"))


def test_a_file_in_a_text_field_is_refused_with_a_message(client, db_session):
    slug = make_event_session(db_session).slug
    token = csrf_token(client.get(f"/en/sessions/{slug}").get_data(as_text=True))
    data = registration_form(csrf_token=token)
    data["full_name"] = (io.BytesIO(b"not a name"), "name.txt")
    response = client.post(f"/en/sessions/{slug}", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Please type text here, not a file." in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(Registration)) == 0


def test_a_file_as_the_login_e_mail_is_refused(client):
    token = csrf_token(client.get("/en/login").get_data(as_text=True))
    response = client.post(
        "/en/login",
        data={"csrf_token": token, "email": (io.BytesIO(b"x"), "a.txt"), "password": "x"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400


def test_paper_entry_longer_than_the_service_allows_is_a_form_message(client, db_session, organiser):
    document = make_document(db_session)
    event_session = make_event_session(db_session, consultation=document_consultation(db_session, document))
    token = csrf_token(client.get(f"{COMMENTS}/enter").get_data(as_text=True))
    too_long = client.post(
        f"{COMMENTS}/enter",
        data={"csrf_token": token, **paper_form(document, event_session, body="ү" * 5001)},
    )
    assert too_long.status_code == 400
    assert "Please use at most 5000 characters." in too_long.get_data(as_text=True)
    spaces = client.post(
        f"{COMMENTS}/enter",
        data={"csrf_token": token, **paper_form(document, event_session), "event_session": "   "},
    )
    assert spaces.status_code == 303  # a session of spaces is no session
    assert db_session.scalar(select(Comment.session_id)) is None


@pytest.mark.parametrize(
    "target",
    ["/\t/evil.example/", "/\\evil.example", "//evil.example", "/x\r\nSet-Cookie: a=b", "https://e.x/"],
)
def test_off_site_or_broken_return_addresses_are_ignored(client, db_session, organiser, target):
    assert not is_safe_next(target)
    document = make_document(db_session)
    comment = make_comment_row(db_session, document)
    token = csrf_token(client.get(f"{COMMENTS}/enter").get_data(as_text=True))
    response = client.post(
        f"{COMMENTS}/bulk",
        data={"csrf_token": token, "ids": [comment.id], "action": "publish", "return_to": target},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"{COMMENTS}/"


def make_comment_row(db_session, document):
    from tests.factories import make_comment

    return make_comment(db_session, document)


def test_a_local_return_address_is_kept():
    assert is_safe_next("/en/organiser/comments/?status=new&page=2")


def test_mail_that_could_never_leave_is_refused_when_queued(app, db_session):
    assert address_problem("айгүл@example.kg") is not None
    assert address_problem("айгүл@example.kg", smtputf8=True) is None
    assert address_problem("aigul@мисал.кг") is None  # a non-ASCII domain is encoded (IDNA)
    for recipient, subject in [("a@example.kg", "Room\r\nBcc: x@evil.example"), ("айгүл@example.kg", "Hi")]:
        with pytest.raises(Undeliverable):
            enqueue(db_session, kind="t", recipient=recipient, subject=subject, body_text="b", locale="en")
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_non_latin_address_is_refused_when_typed_without_smtputf8(client, db_session):
    slug = make_event_session(db_session).slug
    token = csrf_token(client.get(f"/en/sessions/{slug}").get_data(as_text=True))
    response = client.post(
        f"/en/sessions/{slug}", data=registration_form(csrf_token=token, email="айгүл@example.kg")
    )
    assert response.status_code == 400
    assert "non-Latin letters before the @" in response.get_data(as_text=True)


def test_the_organiser_is_told_why_a_message_was_not_queued(client, app, db_session, organiser):
    event = make_event_session(db_session)
    make_registration(db_session, event, email="айгүл@example.kg")
    token = csrf_token(client.get("/en/organiser/mail/write").get_data(as_text=True))
    data = {"csrf_token": token, "session_id": str(event.id), "subject": "Room change", "body": "Room 3."}
    response = client.post("/en/organiser/mail/write", data=data)
    assert response.status_code == 400
    assert "cannot receive mail through our mail server" in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    # a line break sent in the subject becomes a space: the message can leave
    ok = client.post("/en/organiser/mail/write", data={**data, "subject": "Room\r\nchange"})
    assert ok.status_code == 400  # still the same recipient; the subject itself was accepted
    assert "one line" not in ok.get_data(as_text=True)


def test_staff_pages_with_contacts_are_never_cached(client, db_session, organiser):
    event = make_event_session(db_session)
    make_registration(db_session, event)
    for path in [
        f"/en/organiser/sessions/{event.id}/registrations",
        f"/en/organiser/sessions/{event.id}/door",
        f"{COMMENTS}/",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response.headers["Cache-Control"], path


def test_development_without_secret_key_keeps_a_random_key_in_the_instance_folder(tmp_path):
    first = {"DEVELOPMENT": True, "SECRET_KEY": None}
    config_module.check(first, str(tmp_path))
    second = {"DEVELOPMENT": True, "SECRET_KEY": None}
    config_module.check(second, str(tmp_path))
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert len(first["SECRET_KEY"]) == 64 and first["SECRET_KEY"] != "dev-only-not-secret"
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    other = {"DEVELOPMENT": True, "SECRET_KEY": None}
    config_module.check(other, str(tmp_path / "elsewhere"))
    assert other["SECRET_KEY"] != first["SECRET_KEY"]
    with pytest.raises(config_module.ConfigError):
        config_module.check({"SECRET_KEY": None}, str(tmp_path))

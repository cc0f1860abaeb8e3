"""Property tests (hypothesis): arbitrary text, unicode, huge, repeated and missing fields sent to every public
form, the log-in form and the upload form never get a 5xx, and never leave a half-stored record.

Kept fast: few examples, no deadline; each test runs on SQLite and PostgreSQL like every database test.
"""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from eventreg.models import Comment, Document, DocumentItem, OutboxMessage, Registration
from tests.auth_helpers import login_as, make_user
from tests.factories import csrf_token, make_consultation, make_event_session, registration_form
from tests.factories_consultation import comment_form, import_document, one_language

SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ODD = [
    "",
    " ",
    "   ",
    "\x00",
    "\r\n",
    "\t",
    "ң ө ү",
    "=1+1",
    "<script>x</script>",
    "9" * 30,
    "-1",
    "²",
    "a@b",
]
text_value = st.one_of(
    st.text(max_size=40),
    st.text(max_size=300),
    st.sampled_from(ODD),
    st.builds(
        lambda c, n: c * n, st.sampled_from(["ү", "a", "\n"]), st.sampled_from([201, 5001, 10001, 60000])
    ),
)
field_value = st.one_of(st.none(), text_value, st.lists(text_value, min_size=2, max_size=3))


def form(valid: dict, extra: tuple[str, ...] = ()) -> st.SearchStrategy[dict]:
    """Each field either its valid value or anything at all (missing, odd, huge, repeated)."""
    names = [*valid, *extra]
    fields = {name: st.one_of(st.just(valid.get(name)), field_value) for name in names}
    return st.fixed_dictionaries(fields).map(lambda d: {k: v for k, v in d.items() if v is not None})


def post(client, url, data: dict, file_field: str | None):
    """POST the form; with file_field, that field is sent as a file part (a crafted multipart request)."""
    if file_field is None or file_field not in data:
        return client.post(url, data=data)
    data = {**data, file_field: (io.BytesIO(b"\x00binary"), "field.bin")}
    return client.post(url, data=data, content_type="multipart/form-data")


def count(db_session, model) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def open_session(db_session):
    return make_event_session(db_session, capacity=1000)


@SETTINGS
@given(
    data=form(registration_form(email="prop@example.kg"), extra=("unexpected",)),
    file_field=st.one_of(st.none(), st.sampled_from(list(registration_form()))),
)
def test_registration_form(client, db_session, open_session, data, file_field):
    slug = open_session.slug
    token = csrf_token(client.get(f"/en/sessions/{slug}").get_data(as_text=True))
    before = count(db_session, Registration), count(db_session, OutboxMessage)
    response = post(client, f"/en/sessions/{slug}", {**data, "csrf_token": token}, file_field)
    assert response.status_code < 500
    after = count(db_session, Registration), count(db_session, OutboxMessage)
    if response.status_code == 303 and "/r/" in response.headers["Location"]:
        assert after == (before[0] + 1, before[1] + 1)  # the registration and its confirmation, together
        newest = db_session.scalars(select(Registration).order_by(Registration.id.desc())).first()
        assert newest.full_name.strip() and "@" in newest.email and newest.consent_at
    elif response.status_code == 303:  # already registered: the link again, nothing else
        assert after == (before[0], before[1] + 1)
    else:
        assert after == before


@SETTINGS
@given(data=form({"email": "someone@example.kg"}))
def test_link_request_form(client, db_session, open_session, data):
    slug = open_session.slug
    token = csrf_token(client.get(f"/en/sessions/{slug}").get_data(as_text=True))
    response = client.post(f"/en/sessions/{slug}/link", data={**data, "csrf_token": token})
    assert response.status_code < 500
    assert count(db_session, Registration) == 0


@pytest.fixture
def registered(client, db_session, open_session):
    token = csrf_token(client.get(f"/en/sessions/{open_session.slug}").get_data(as_text=True))
    client.post(f"/en/sessions/{open_session.slug}", data=registration_form(csrf_token=token))
    return db_session.scalars(select(Registration)).one()


@SETTINGS
@given(data=form(registration_form()))
def test_personal_page_edit_form(client, db_session, registered, data):
    url = f"/en/r/{registered.token}/edit"
    token = csrf_token(client.get(url).get_data(as_text=True))
    response = client.post(url, data={**data, "csrf_token": token})
    assert response.status_code < 500
    db_session.expire_all()
    row = db_session.get(Registration, registered.id)
    assert row.full_name.strip() and "@" in row.email and row.sector and row.region and row.sex


@pytest.fixture
def draft(db_session):
    consultation = make_consultation(db_session)
    import_document(db_session, consultation)
    return consultation


@SETTINGS
@given(
    data=form({**comment_form(), "email": "c@example.kg"}),
    on_item=st.booleans(),
    file_field=st.one_of(st.none(), st.sampled_from(["body", "name", "email", "kind"])),
)
def test_comment_form(client, db_session, draft, data, on_item, file_field):
    url = f"/en/consultation/{draft.slug}/strategy" + ("/items/1.1/comment" if on_item else "/comment")
    page = client.get(url)
    assert page.status_code == 200
    before = count(db_session, Comment)
    response = post(client, url, {**data, "csrf_token": csrf_token(page.get_data(as_text=True))}, file_field)
    assert response.status_code < 500
    after = count(db_session, Comment)
    if response.status_code == 303:
        assert after == before + 1
        newest = db_session.scalars(select(Comment).order_by(Comment.id.desc())).first()
        assert newest.body.strip() and newest.author_name.strip() and newest.sector and newest.sex
    else:
        assert after == before


@SETTINGS
@given(
    data=form({"email": "staff@example.kg", "password": "wrong", "next": "/en/"}),
    file_field=st.one_of(st.none(), st.sampled_from(["email", "password", "next"])),
)
def test_login_form(client, data, file_field):
    token = csrf_token(client.get("/en/login").get_data(as_text=True))
    response = post(client, "/en/login", {**data, "csrf_token": token}, file_field)
    assert response.status_code < 500
    assert response.status_code != 303  # nobody logs in without the password


file_content = st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=2000).map(str.encode),
    st.just(one_language("ru").encode()),
    st.just(one_language("ky").encode("cp1251", errors="replace")),
    st.just(b"\xef\xbb\xbf" + one_language("en").encode()),
)
upload_file = st.tuples(
    file_content, st.one_of(st.sampled_from(["ru.md", "doc.txt", "", "x" * 300]), st.text(max_size=30))
)


@SETTINGS
@given(
    files=st.lists(upload_file, max_size=3),
    consultation_field=st.one_of(st.none(), text_value, st.just("valid")),
)
def test_upload_form(app, client, db_session, files, consultation_field):
    consultation = make_consultation(db_session) if not hasattr(app, "_prop_consultation") else None
    if consultation is not None:
        app._prop_consultation = consultation.slug
        login_as(client, app, make_user(db_session, role="organiser"))
    slug = app._prop_consultation
    token = csrf_token(client.get("/en/organiser/documents/upload").get_data(as_text=True))
    data = {"csrf_token": token, "files": [(io.BytesIO(content), name) for content, name in files]}
    if consultation_field is not None:
        data["consultation"] = slug if consultation_field == "valid" else consultation_field
    before = count(db_session, Document), count(db_session, DocumentItem)
    response = client.post("/en/organiser/documents/upload", data=data, content_type="multipart/form-data")
    assert response.status_code < 500
    after = count(db_session, Document), count(db_session, DocumentItem)
    if response.status_code == 303:
        assert after[0] == before[0] + 1 and after[1] > before[1]
    else:
        assert after == before

"""API keys: made and revoked by admins, stored hashed, tied to a role; what a key may read and write."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from eventreg.models import ApiKey, AuditEntry, Comment, CommentDecisionChange
from tests.auth_helpers import login_as, make_user
from tests.factories import csrf_token, make_comment, make_consultation, make_event_session, registration_form
from tests.factories_consultation import import_document


def create_key(client, app, admin, role: str, name: str = "Ministry dashboard") -> str:
    login_as(client, app, admin)
    page = client.get("/en/admin/api-keys")
    assert page.status_code == 200
    response = client.post(
        "/en/admin/api-keys",
        data={"name": name, "role": role, "csrf_token": csrf_token(page.get_data(as_text=True))},
    )
    assert response.status_code == 201 and "no-store" in response.headers["Cache-Control"]
    match = re.search(r'<code class="secret">([^<]+)</code>', response.get_data(as_text=True))
    assert match, "the new key is shown once"
    return match.group(1)


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def admin(db_session):
    return make_user(db_session, role="admin")


@pytest.fixture
def draft(db_session):
    consultation = make_consultation(db_session)
    return consultation, import_document(db_session, consultation)


def test_a_key_is_stored_hashed_and_its_last_use_is_shown(app, db_session, admin, draft):
    client = app.test_client()
    key = create_key(client, app, admin, "organiser")
    (row,) = db_session.scalars(select(ApiKey))
    assert key not in (row.key_hash, row.prefix) and len(row.key_hash) == 64 and key.startswith(row.prefix)
    assert row.last_used_at is None
    consultation, _document = draft
    api = app.test_client()
    response = api.get(f"/api/v1/consultations/{consultation.slug}/all-comments", headers=bearer(key))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    db_session.expire_all()
    assert db_session.get(ApiKey, row.id).last_used_at is not None
    page = client.get("/en/admin/api-keys").get_data(as_text=True)
    assert "Ministry dashboard" in page and key not in page and "Never" not in page


def test_missing_unknown_and_revoked_keys_are_refused(app, db_session, admin, draft):
    consultation, _document = draft
    client = app.test_client()
    key = create_key(client, app, admin, "organiser")
    url = f"/api/v1/consultations/{consultation.slug}/registrations?lang=ru"
    api = app.test_client()
    missing = api.get(url)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert missing.mimetype == "application/problem+json" and missing.get_json()["title"] == "Нужен ключ API."
    assert api.get(url, headers=bearer("evr_" + "x" * 43)).get_json()["type"].endswith("unknown-key")
    assert api.get(url, headers=bearer(key)).status_code == 200
    page = client.get("/en/admin/api-keys")
    key_id = db_session.scalar(select(ApiKey.id))
    revoked = client.post(
        f"/en/admin/api-keys/{key_id}/revoke", data={"csrf_token": csrf_token(page.get_data(as_text=True))}
    )
    assert revoked.status_code == 303
    refused = api.get(url, headers=bearer(key))
    assert refused.status_code == 401 and refused.get_json()["type"].endswith("revoked-key")
    actions = list(db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["api_key.create", "api_key.revoke"]


def test_only_admins_manage_keys(app, db_session):
    client = app.test_client()
    login_as(client, app, make_user(db_session, role="organiser"))
    assert client.get("/en/admin/api-keys").status_code == 403


def test_an_analyst_key_reads_reports_but_no_personal_data(app, db_session, admin, draft):
    consultation, document = draft
    make_comment(db_session, document, None, email="a@example.kg")
    key = create_key(app.test_client(), app, admin, "analyst")
    api = app.test_client()
    report = api.get(
        f"/api/v1/report-rows/comments-by-region?consultation={consultation.id}&lang=en", headers=bearer(key)
    )
    assert report.status_code == 200, report.get_data(as_text=True)
    body = report.get_json()
    assert body["rows"] and body["columns"][0]["label"]
    listing = api.get("/api/v1/report-rows/comment-list", headers=bearer(key)).get_data(as_text=True)
    assert "a@example.kg" not in listing
    assert api.get("/api/v1/report-rows/no-such", headers=bearer(key)).status_code == 404
    assert api.get("/api/v1/report-rows/comment-list?region=XX", headers=bearer(key)).status_code == 400
    for url in (
        f"/api/v1/consultations/{consultation.slug}/registrations",
        f"/api/v1/consultations/{consultation.slug}/all-comments",
    ):
        wrong = api.get(url, headers=bearer(key))
        assert wrong.status_code == 403 and wrong.get_json()["type"].endswith("wrong-role")
    write = api.post("/api/v1/paper-comments", json={}, headers=bearer(key))
    assert write.status_code == 403


def test_an_organiser_key_reads_registrations_and_all_comments(app, db_session, admin, draft):
    consultation, document = draft
    event = make_event_session(db_session, consultation)
    api = app.test_client()
    public = {k: v for k, v in registration_form(email="reg@example.kg").items() if k != "consent"}
    assert (
        api.post(f"/api/v1/sessions/{event.slug}/registrations", json={**public, "consent": True}).status_code
        == 201
    )
    make_comment(db_session, document, None, status="hidden", email="c@example.kg")
    key = create_key(app.test_client(), app, admin, "organiser")
    registrations = api.get(f"/api/v1/consultations/{consultation.slug}/registrations", headers=bearer(key))
    assert [r["email"] for r in registrations.get_json()["items"]] == ["reg@example.kg"]
    comments = api.get(
        f"/api/v1/consultations/{consultation.slug}/all-comments", headers=bearer(key)
    ).get_json()
    assert (
        comments["items"][0]["status"]["code"] == "hidden" and comments["items"][0]["email"] == "c@example.kg"
    )


def test_organiser_key_enters_paper_comments_and_decides(app, db_session, admin, draft):
    consultation, document = draft
    event = make_event_session(db_session, consultation)
    key = create_key(app.test_client(), app, admin, "organiser")
    api = app.test_client()
    paper = {
        "document": document.id,
        "item_number": "1.2",
        "event_session": event.id,
        "source": "paper",
        "language": "ky",
        "kind": "amendment",
        "body": "Окуу китептерин жаңыртуу керек.",
        "proposed_wording": "Жаңы редакция",
        "author_name": "Гүлнара Осмонова",
        "organisation": "ЖӨБ",
        "sector": "local_government",
        "region": "KG-N",
        "sex": "female",
        "email": "",
    }
    stored = api.post("/api/v1/paper-comments", json=paper, headers=bearer(key))
    assert stored.status_code == 201, stored.get_data(as_text=True)
    comment = db_session.get(Comment, stored.get_json()["id"])
    assert comment.source == "paper" and comment.session_id == event.id and comment.entered_by_id == admin.id
    unknown = api.post("/api/v1/paper-comments", json={**paper, "item_number": "9.9"}, headers=bearer(key))
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "item_number"
    comment.status = "published"
    db_session.commit()
    url = f"/api/v1/comments/{comment.id}/decision?lang=en"
    no_reason = api.post(url, json={"decision": "rejected"}, headers=bearer(key))
    assert no_reason.status_code == 422 and no_reason.get_json()["errors"][0]["field"] == "justification_ky"
    decided = api.post(
        url, json={"decision": "rejected", "justification_ky": "Башка пунктта бар."}, headers=bearer(key)
    )
    assert decided.status_code == 200 and decided.get_json()["changed"] is True
    (change,) = db_session.scalars(select(CommentDecisionChange))
    assert change.decision == "rejected" and change.user_id == admin.id
    # the part accepted, per language like the justification; in the comment's language (Kyrgyz) first
    russian_only = api.post(
        url, json={"decision": "partly_accepted", "part_ru": "Первая часть"}, headers=bearer(key)
    )
    assert russian_only.status_code == 422 and russian_only.get_json()["errors"][0]["field"] == "part_ky"
    # a client that sends one `part`, as before it was kept per language, writes the comment's language
    legacy = api.post(
        url, json={"decision": "partly_accepted", "part": "Биринчи бөлүгү"}, headers=bearer(key)
    )
    assert legacy.status_code == 200, legacy.get_data(as_text=True)
    assert (
        legacy.get_json()["decision_part"] == "Биринчи бөлүгү"
    )  # English asked for, Kyrgyz is what there is
    assert legacy.get_json()["decision_part_by_language"] == {"ky": "Биринчи бөлүгү"}
    both = api.post(
        url,
        json={"decision": "partly_accepted", "part_ky": "Биринчи бөлүгү", "part_en": "The first part"},
        headers=bearer(key),
    )
    assert both.get_json()["decision_part"] == "The first part"
    db_session.expire_all()
    assert db_session.get(Comment, comment.id).decision_part == {
        "ky": "Биринчи бөлүгү",
        "en": "The first part",
    }
    assert (
        api.post(
            "/api/v1/comments/999999/decision", json={"decision": "noted"}, headers=bearer(key)
        ).status_code
        == 404
    )

"""The JSON API: public reads, problem details, ETags, pagination and the public writes."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from openapi_spec_validator import validate
from sqlalchemy import select

from eventreg.models import Comment, DocumentItem, Registration
from tests.conftest import LiveServer, make_test_app
from tests.factories import (
    csrf_token,
    make_comment,
    make_consultation,
    make_event_session,
    now,
    registration_form,
)
from tests.factories_consultation import comment_form, import_document


def api_registration(**overrides) -> dict:
    return registration_form(**{"consent": True, **overrides})


def api_comment(**overrides) -> dict:
    return comment_form(**{"consent": True, **overrides})


def item_of(db_session, document, number):
    return db_session.scalars(
        select(DocumentItem).where(DocumentItem.document_id == document.id, DocumentItem.number == number)
    ).one()


@pytest.fixture
def draft(db_session):
    consultation = make_consultation(db_session)
    return consultation, import_document(db_session, consultation)


# --- the description ----------------------------------------------------------------------------------


def test_openapi_is_valid_and_lists_every_api_route(client, app):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        assert path in spec["paths"], f"{path} missing from openapi.json"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in spec["paths"][path], f"{method} {path} missing"


def test_reference_page_is_html_without_scripts(client):
    page = client.get("/api/v1/reference?lang=ky")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "<script" not in html and "/api/v1/sessions/{slug}/registrations" in html
    assert 'lang="ky"' in html


# --- reading ------------------------------------------------------------------------------------------


def test_sessions_show_places_left_and_page_with_a_cursor(client, db_session):
    consultation = make_consultation(db_session)
    sessions = [make_event_session(db_session, consultation, capacity=3) for _ in range(3)]
    make_event_session(db_session, consultation, status="draft")
    first = client.get("/api/v1/sessions?limit=2&lang=en").get_json()
    assert [s["slug"] for s in first["items"]] == [s.slug for s in sessions[:2]]
    assert first["items"][0]["places_left"] == 3 and first["items"][0]["registration_open"] is True
    assert first["items"][0]["region"] == {"code": "KG-N", "label": "Naryn Region"}
    assert "/api/v1/sessions?" in first["next"] and "lang=en" in first["next"]
    tricky = client.get("/api/v1/sessions?limit=1&endpoint=x&_external=1&_anchor=a")
    assert tricky.status_code == 200 and "#" not in tricky.get_json()["next"]
    second = client.get(first["next"]).get_json()
    assert [s["slug"] for s in second["items"]] == [sessions[2].slug]
    assert second["next_cursor"] is None
    one = client.get(f"/api/v1/sessions/{sessions[0].slug}").get_json()
    assert one["capacity"] == 3


def test_consultations_list_their_current_documents(client, draft):
    consultation, _document = draft
    body = client.get("/api/v1/consultations", headers={"Accept-Language": "ky"}).get_json()
    (item,) = body["items"]
    assert item["slug"] == consultation.slug and item["comments_open"] is True
    assert item["title"] == "Стратегиянын долбоорун талкуулоо"
    assert [d["key"] for d in item["documents"]] == ["strategy"]


def test_document_tree_per_language_with_etag(client, draft):
    consultation, _document = draft
    url = f"/api/v1/consultations/{consultation.slug}/documents/strategy"
    english = client.get(url + "?lang=en")
    assert english.status_code == 200 and english.headers["Content-Language"] == "en"
    body = english.get_json()
    (section,) = body["items"]
    assert section["number"] == "1" and section["heading"] == "Analysis of the situation"
    assert [child["number"] for child in section["children"]] == ["1.1", "1.2", "1.3"]
    assert section["children"][2]["fields"]["activity"] == "Open kindergartens"
    etag = english.headers["ETag"]
    again = client.get(url + "?lang=en", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.get_data()
    kyrgyz = client.get(url, headers={"Accept-Language": "ky", "If-None-Match": etag})
    assert kyrgyz.status_code == 200 and kyrgyz.get_json()["items"][0]["heading"] == "Абалды талдоо"
    assert kyrgyz.headers["ETag"] != etag


def test_published_comments_show_the_public_author_only(client, db_session, draft):
    consultation, document = draft
    item = item_of(db_session, document, "1.1")
    shown = make_comment(db_session, document, item, status="published", show_name=True, email="a@example.kg")
    anonymous = make_comment(
        db_session, document, item, status="published", author_name="Бакыт Асанов", organisation=None
    )
    make_comment(db_session, document, item, status="new", body="Not yet moderated")
    make_comment(db_session, document, None, status="hidden", body="Spam")
    body = client.get(f"/api/v1/consultations/{consultation.slug}/comments?lang=ru").get_json()
    assert [c["id"] for c in body["items"]] == [shown.id, anonymous.id]
    first, second = body["items"]
    assert first["author"].startswith("Айгүл Токтогулова") and first["item"] == "1.1"
    assert "Бакыт" not in second["author"] and second["author"].startswith("Участник")
    raw = str(body)
    assert "a@example.kg" not in raw and "female" not in raw


def test_decisions_and_counts(client, db_session, draft):
    consultation, document = draft
    make_comment(
        db_session,
        document,
        item_of(db_session, document, "1.2"),
        status="published",
        decision="partly_accepted",
        decision_part={"ru": "Первая часть", "en": "The first part"},
        justification={"ru": "Учтено в пункте 1.2", "en": "Reflected in 1.2"},
        decided_at=now(),
    )
    make_comment(db_session, document, None, status="published")
    make_comment(db_session, document, None, status="hidden")
    url = f"/api/v1/consultations/{consultation.slug}/decisions?lang=en"
    assert client.get(url).get_json()["items"] == [], "decisions are public once the results are"
    document.results_published = True
    db_session.commit()
    decisions = client.get(f"/api/v1/consultations/{consultation.slug}/decisions?lang=en").get_json()
    (decided,) = decisions["items"]
    assert decided["decision"] == {"code": "partly_accepted", "label": "Partly accepted"}
    assert decided["justification"] == "Reflected in 1.2" and decided["decision_part"] == "The first part"
    # in Kyrgyz neither was written: both come in the same other language, as the pages show them
    (in_kyrgyz,) = client.get(f"/api/v1/consultations/{consultation.slug}/decisions?lang=ky").get_json()[
        "items"
    ]
    assert (in_kyrgyz["decision_part"], in_kyrgyz["justification"]) == ("Первая часть", "Учтено в пункте 1.2")
    counts = client.get(f"/api/v1/consultations/{consultation.slug}/counts").get_json()
    assert counts["comments"]["received"] == 2
    assert counts["comments"]["published_decisions"] == [{"code": "partly_accepted", "count": 1}]


# --- problems -----------------------------------------------------------------------------------------


def test_errors_are_translated_problem_details(client):
    response = client.get("/api/v1/consultations/nowhere?lang=ky")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 404 and body["type"].endswith("no-consultation")
    english = client.get("/api/v1/consultations/nowhere?lang=en").get_json()
    assert body["title"] != english["title"] and body["detail"] != english["detail"]
    assert client.get("/api/v1/no-such-thing").mimetype == "application/problem+json"
    assert client.delete("/api/v1/sessions").status_code == 405


BAD_QUERIES = [
    "/api/v1/sessions?cursor=%00%ff",
    "/api/v1/sessions?cursor=djE6LTE",
    "/api/v1/sessions?cursor=djE6OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5",
    "/api/v1/sessions?limit=-1",
    "/api/v1/sessions?limit=99999999999999999999999",
    "/api/v1/sessions?limit=²",
    "/api/v1/sessions?region=XX",
    "/api/v1/sessions?kind=%27%3B--",
    "/api/v1/sessions?consultation=%00",
    "/api/v1/consultations?cursor=" + "A" * 5000,
    "/api/v1/consultations/%F0%9F%98%80/documents/x",
    "/api/v1/sessions/" + "x" * 3000,
    "/api/v1/consultations?lang=zz",
]


def test_bad_input_is_never_a_server_error(client, draft):
    for url in BAD_QUERIES:
        response = client.get(url)
        assert response.status_code < 500, url
    slug = draft[0].slug
    for body, content_type in [
        ("{", "application/json"),
        ("[1, 2]", "application/json"),
        ('{"body": {"nested": 1}}', "application/json"),
        ('{"body": "\\u0000", "kind": 5, "consent": true}', "application/json"),
        ("kind=support", "application/x-www-form-urlencoded"),
        ("", "text/plain"),
    ]:
        for url in (
            f"/api/v1/consultations/{slug}/documents/strategy/comments",
            "/api/v1/sessions/x/registrations",
        ):
            response = client.post(url, data=body, content_type=content_type)
            assert 400 <= response.status_code < 500, (url, body, response.status_code)
            assert response.mimetype == "application/problem+json"


# --- writing ------------------------------------------------------------------------------------------


def test_register_through_the_api(client, db_session):
    event = make_event_session(db_session, capacity=1, waitlist_enabled=True)
    url = f"/api/v1/sessions/{event.slug}/registrations"
    first = client.post(url, json=api_registration(email="one@example.kg"), headers={"Accept-Language": "ky"})
    assert first.status_code == 201, first.get_data(as_text=True)
    body = first.get_json()
    assert body["status"]["code"] == "confirmed" and "/r/" in body["personal_link"]
    second = client.post(url, json=api_registration(email="two@example.kg"))
    assert second.get_json()["status"]["code"] == "waitlisted" and second.get_json()["waitlist_position"] == 1
    again = client.post(url, json=api_registration(email="ONE@example.kg"))
    assert again.status_code == 409 and again.get_json()["type"].endswith("already-registered")
    rows = list(db_session.scalars(select(Registration).order_by(Registration.id)))
    assert [r.locale for r in rows] == ["ky", "ru"]


def test_registration_needs_the_same_fields_and_consent_as_the_form(client, db_session):
    event = make_event_session(db_session)
    url = f"/api/v1/sessions/{event.slug}/registrations"
    response = client.post(
        url + "?lang=en", json=api_registration(consent=False, region="KG-XX", email="bad")
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert fields == {"consent", "region", "email"}
    russian = client.post(url + "?lang=ru", json=api_registration(consent=False)).get_json()
    assert russian["errors"][0]["detail"].startswith("Пожалуйста")
    not_json = client.post(url, data=api_registration())
    assert not_json.status_code == 415
    assert db_session.scalar(select(Registration.id)) is None


def test_closed_session_refuses_with_the_reason(client, db_session):
    event = make_event_session(db_session, capacity=1, waitlist_enabled=False)
    url = f"/api/v1/sessions/{event.slug}/registrations?lang=en"
    assert client.post(url, json=api_registration()).status_code == 201
    full = client.post(url, json=api_registration())
    assert full.status_code == 409 and full.get_json()["type"].endswith("registration-closed-full")
    assert "full" in full.get_json()["detail"]


def test_comment_through_the_api(client, db_session, draft):
    consultation, document = draft
    url = f"/api/v1/consultations/{consultation.slug}/documents/strategy/comments"
    stored = client.post(url + "?lang=ky", json=api_comment(item="1.1", body="Бул пункт керек, ң ө ү."))
    assert stored.status_code == 201, stored.get_data(as_text=True)
    (comment,) = db_session.scalars(select(Comment))
    assert comment.item_id == item_of(db_session, document, "1.1").id and comment.language == "ky"
    assert comment.status == "new" and comment.consent_at is not None
    unknown = client.post(url, json=api_comment(item="9.9"))
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "item"
    amendment = client.post(url, json=api_comment(kind="amendment", proposed_wording=""))
    assert amendment.status_code == 422


def test_comment_after_closing_is_refused(client, db_session):
    consultation = make_consultation(db_session, comments_close_at=now() - timedelta(hours=1))
    import_document(db_session, consultation)
    url = f"/api/v1/consultations/{consultation.slug}/documents/strategy/comments?lang=en"
    response = client.post(url, json=api_comment())
    assert response.status_code == 409 and "closed" in response.get_json()["detail"]


# --- one capacity for the API and the form, under a parallel burst -----------------------------------

PARALLEL = 20
CAPACITY = 5


@pytest.mark.slow
def test_parallel_api_and_form_registrations_share_the_capacity(database_url, tmp_path):
    app = make_test_app(database_url, tmp_path)
    from eventreg.extensions import db

    with app.app_context():
        event = make_event_session(db.session, capacity=CAPACITY, waitlist_enabled=False)
        slug, event_id = event.slug, event.id
    with LiveServer(app) as server:
        form_clients = []
        for _ in range(PARALLEL // 2):
            http = requests.Session()
            form_clients.append(
                (http, csrf_token(http.get(f"{server.url}/ru/sessions/{slug}", timeout=30).text))
            )
        barrier = threading.Barrier(PARALLEL)

        def submit(index: int) -> int:
            email = f"burst{index}@example.kg"
            if index % 2:
                barrier.wait()
                response = requests.post(
                    f"{server.url}/api/v1/sessions/{slug}/registrations",
                    json=api_registration(email=email),
                    timeout=60,
                )
            else:
                http, token = form_clients[index // 2]
                data = registration_form(email=email, csrf_token=token)
                barrier.wait()
                response = http.post(
                    f"{server.url}/ru/sessions/{slug}", data=data, allow_redirects=False, timeout=60
                )
            return response.status_code

        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            statuses = list(pool.map(submit, range(PARALLEL)))
    with app.app_context():
        rows = list(db.session.scalars(select(Registration).where(Registration.session_id == event_id)))
    app.extensions["eventreg.db"]["engine"].dispose()
    assert all(status < 500 for status in statuses), statuses
    assert len(rows) == CAPACITY and all(r.status == "confirmed" for r in rows)
    assert sorted(statuses).count(201) + sorted(statuses).count(303) == CAPACITY


# --- open data ----------------------------------------------------------------------------------------


def test_open_data_as_csv_and_json_with_licence_and_stable_ids(client, db_session, draft):
    import csv
    import io

    consultation, document = draft
    item = item_of(db_session, document, "1.1")
    first = make_comment(
        db_session,
        document,
        item,
        status="published",
        body="=HYPERLINK(1) ң ө ү",
        decision="accepted",
        justification={"en": "Agreed"},
    )
    make_comment(db_session, document, None, status="new", body="not published")
    second = make_comment(db_session, document, None, status="published", show_name=True)
    url = f"/api/v1/consultations/{consultation.slug}/open-data"
    data = client.get(url + ".json?lang=en")
    assert data.status_code == 200 and 'rel="license"' in data.headers["Link"]
    body = data.get_json()
    assert body["licence"]["name"] == "CC BY 4.0" and body["generated_at"].endswith("Z")
    assert [c["comment_id"] for c in body["comments"]] == [first.id, second.id]
    assert body["comments"][0]["decision"] == "", "decisions wait for the results to be published"
    assert body["comments"][1]["author"].startswith("Айгүл Токтогулова")
    document.results_published = True
    db_session.commit()
    table = client.get(url + ".csv?lang=en")
    raw = table.get_data()
    assert raw.startswith("\ufeff".encode()) and table.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [int(r["comment_id"]) for r in rows] == [first.id, second.id]
    assert rows[0]["body"] == "'=HYPERLINK(1) ң ө ү", "no cell runs as a formula"
    assert rows[0]["decision"] == "accepted" and rows[0]["justification"] == "Agreed"
    assert "@" not in raw.decode("utf-8-sig"), "no e-mail address leaves"
    page = client.get(f"/en/results/{consultation.slug}/strategy").get_data(as_text=True)
    assert f"/api/v1/consultations/{consultation.slug}/open-data.csv" in page and "CC BY 4.0" in page


def test_a_cross_site_preflight_for_a_write_is_not_granted(client, db_session):
    event = make_event_session(db_session)
    preflight = client.options(
        f"/api/v1/sessions/{event.slug}/registrations",
        headers={
            "Origin": "https://elsewhere.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert "Access-Control-Allow-Headers" not in preflight.headers

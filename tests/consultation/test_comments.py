"""Commenting on a draft: each kind, closed consultations, limits, expired forms, counts and publication."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from eventreg.models import Comment, DocumentItem
from tests.factories import (
    csrf_token,
    make_comment,
    make_consultation,
    make_event_session,
    now,
    registration_form,
)
from tests.factories_consultation import comment_form, import_document


def comments(db_session):
    db_session.expire_all()
    return list(db_session.scalars(select(Comment).order_by(Comment.id)))


def item_of(db_session, document, number):
    return db_session.scalars(
        select(DocumentItem).where(DocumentItem.document_id == document.id, DocumentItem.number == number)
    ).one()


def comment_url(consultation, number=None, lang="ru", key="strategy"):
    base = f"/{lang}/consultation/{consultation.slug}/{key}"
    return f"{base}/items/{number}/comment" if number else f"{base}/comment"


def post_comment(client, url, **fields):
    page = client.get(url)
    data = comment_form(**fields)
    data["csrf_token"] = csrf_token(page.get_data(as_text=True))
    return client.post(url, data=data)


@pytest.fixture
def draft(db_session):
    consultation = make_consultation(db_session)
    return consultation, import_document(db_session, consultation)


@pytest.mark.parametrize("kind", ["support", "objection", "amendment", "question", "other"])
def test_each_kind_of_comment_is_stored_on_its_item(client, db_session, draft, kind):
    consultation, document = draft
    wording = "Новая редакция пункта." if kind == "amendment" else ""
    response = post_comment(
        client, comment_url(consultation, "1.1", lang="ky"), kind=kind, proposed_wording=wording
    )
    assert response.status_code == 303
    (comment,) = comments(db_session)
    assert comment.kind == kind and comment.language == "ky"
    assert comment.item_id == item_of(db_session, document, "1.1").id
    assert comment.status == "new" and comment.consent_at is not None
    assert comment.proposed_wording == (wording or None)
    received = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1.1" in received and 'lang="ky"' in received
    english = client.get(response.headers["Location"].replace("/ky/", "/en/")).get_data(as_text=True)
    assert "Thank you: your comment was received" in english and "Comment on another item" in english


def test_amendment_needs_the_proposed_wording(client, db_session, draft):
    consultation, _document = draft
    response = post_comment(client, comment_url(consultation, "1.2", lang="en"), kind="amendment")
    assert response.status_code == 400
    assert "Please write the wording you propose." in response.get_data(as_text=True)
    assert comments(db_session) == []


def test_general_comment_on_the_whole_document(client, db_session, draft):
    consultation, document = draft
    response = post_comment(client, comment_url(consultation, lang="en"), body="General remark")
    assert response.status_code == 303
    (comment,) = comments(db_session)
    assert comment.item_id is None and comment.document_id == document.id
    page = client.get(f"/en/consultation/{consultation.slug}/strategy").get_data(as_text=True)
    assert "1 general comment on the whole document" in page


@pytest.mark.parametrize(
    "opens, closes, message",
    [
        (timedelta(days=2), timedelta(days=10), "Comments are not open yet"),
        (timedelta(days=-10), timedelta(days=-1), "Comments closed on"),
    ],
)
def test_closed_consultation_says_so_and_stores_nothing(client, db_session, opens, closes, message):
    consultation = make_consultation(
        db_session, comments_open_at=now() + opens, comments_close_at=now() + closes
    )
    import_document(db_session, consultation)
    url = comment_url(consultation, "1.1", lang="en")
    page = client.get(url).get_data(as_text=True)
    assert message in page and "Send comment" not in page
    doc_page = client.get(f"/en/consultation/{consultation.slug}/strategy").get_data(as_text=True)
    assert message in doc_page and "/items/1.1/comment" not in doc_page
    # a form kept open in another tab is refused, and the text comes back
    event = make_event_session(db_session, consultation)
    token = csrf_token(client.get(f"/en/sessions/{event.slug}").get_data(as_text=True))
    response = client.post(url, data={**comment_form(body="Too late comment"), "csrf_token": token})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert message in html and "Too late comment" in html and "Your comment was not saved" in html
    assert comments(db_session) == []


def test_too_long_comment_is_refused_and_kept(client, db_session, draft):
    consultation, _document = draft
    text = "я" * 5001
    response = post_comment(client, comment_url(consultation, "1.1"), body=text)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert text in html
    assert comments(db_session) == []


def test_empty_comment_form_says_in_kyrgyz_what_each_field_needs(client, db_session, draft):
    consultation, _document = draft
    response = post_comment(
        client, comment_url(consultation, "1.1", lang="ky"), kind="", body="", name="", sector="", region=""
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for message in (
        "Пикириңиздин түрүн тандаңыз.",
        "Пикириңизди жазыңыз.",
        "Атыңызды жазыңыз.",
        "Секторуңузду тандаңыз.",
        "Аймагыңызды тандаңыз.",
    ):
        assert f">{message}</a>" in html, message  # in the summary, linking to its field
    assert "Бул талааны толтуруңуз." not in html  # no field is left with the generic "fill in this field"
    assert comments(db_session) == []


def test_html_is_stored_as_typed_and_shown_as_text(client, db_session, draft):
    consultation, document = draft
    body = '<script>alert("x")</script><b>bold</b>'
    post_comment(client, comment_url(consultation, "1.1", lang="en"), body=body, name="<i>Name</i>")
    (comment,) = comments(db_session)
    assert comment.body == body
    comment.status = "published"
    comment.show_name = True
    db_session.commit()
    page = client.get(f"/en/consultation/{consultation.slug}/strategy").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "&lt;i&gt;Name&lt;/i&gt;" in page


def test_expired_form_keeps_everything_typed(client, db_session, draft):
    consultation, _document = draft
    url = comment_url(consultation, "1.2", lang="en")
    data = comment_form(kind="amendment", body="My long careful comment", proposed_wording="Better words")
    data["csrf_token"] = "expired-token"
    response = client.post(url, data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "The form had expired" in html
    assert "My long careful comment" in html and "Better words" in html and "Айгүл Токтогулова" in html
    assert comments(db_session) == []


def test_second_comment_needs_no_retyping_and_details_can_be_forgotten(client, db_session, draft):
    consultation, _document = draft
    post_comment(
        client, comment_url(consultation, "1.1", lang="en"), organisation="Umut", email="a@example.kg"
    )
    form = client.get(comment_url(consultation, "1.2", lang="en")).get_data(as_text=True)
    assert 'value="Айгүл Токтогулова"' in form and 'value="Umut"' in form and 'value="a@example.kg"' in form
    page = client.get(comment_url(consultation, "1.2", lang="en"))
    token = csrf_token(page.get_data(as_text=True))
    client.post("/en/consultation/forget-me", data={"csrf_token": token, "next": "/en/consultation"})
    assert "Айгүл" not in client.get(comment_url(consultation, "1.2", lang="en")).get_data(as_text=True)


def test_per_item_counts_come_from_one_grouped_query(client, db_session, draft):
    consultation, document = draft
    first, second = item_of(db_session, document, "1.1"), item_of(db_session, document, "1.3")
    for _ in range(3):
        make_comment(db_session, document, first)
    make_comment(db_session, document, second)
    make_comment(db_session, document, second, status="hidden")
    page = client.get(f"/en/consultation/{consultation.slug}/strategy").get_data(as_text=True)
    assert "3 comments" in page and "1 comment" in page
    assert page.count("0 comments") == 2  # items 1 and 1.2
    ru = client.get(f"/ru/consultation/{consultation.slug}/strategy")
    assert ru.status_code == 200


def test_published_comment_shows_name_only_with_consent(client, db_session, draft):
    consultation, document = draft
    item = item_of(db_session, document, "1.1")
    make_comment(
        db_session,
        document,
        item,
        body="Named",
        show_name=True,
        author_name="Асель Бекова",
        status="published",
    )
    make_comment(
        db_session,
        document,
        item,
        body="Org only",
        author_name="Secret Person",
        organisation="ОО «Аялзат»",
        status="published",
    )
    make_comment(
        db_session,
        document,
        item,
        body="Anonymous",
        author_name="Hidden Name",
        organisation=None,
        status="published",
    )
    make_comment(db_session, document, item, body="Not yet moderated", status="new")
    page = client.get(f"/en/consultation/{consultation.slug}/strategy").get_data(as_text=True)
    assert "Асель Бекова" in page
    assert "ОО «Аялзат»" in page and "Secret Person" not in page
    assert "Participant" in page and "Hidden Name" not in page
    assert "Not yet moderated" not in page
    assert "3 published comments" in page


def test_registered_participant_comments_through_personal_link_prefilled(client, db_session, draft):
    consultation, _document = draft
    event = make_event_session(db_session, consultation)
    page = client.get(f"/en/sessions/{event.slug}")
    data = registration_form(
        full_name="Жылдыз Садыкова", organisation="Талас ЖӨБ", sector="local_government", region="KG-T"
    )
    data["csrf_token"] = csrf_token(page.get_data(as_text=True))
    registered = client.post(f"/en/sessions/{event.slug}", data=data)
    personal = client.get(registered.headers["Location"]).get_data(as_text=True)
    assert "Read and comment on the drafts" in personal

    fresh = client.application.test_client()  # the personal link works on another device too
    from eventreg.models import Registration

    registration = db_session.scalars(select(Registration)).one()
    response = fresh.get(f"/en/r/{registration.token}/comment")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/en/consultation/{consultation.slug}/strategy")
    form = fresh.get(comment_url(consultation, "1.1", lang="en")).get_data(as_text=True)
    assert 'value="Жылдыз Садыкова"' in form and 'value="Талас ЖӨБ"' in form
    assert '<option selected value="KG-T">' in form
    response = post_comment(
        fresh, comment_url(consultation, "1.1", lang="en"), name="Жылдыз Садыкова", region="KG-T"
    )
    assert response.status_code == 303
    (comment,) = comments(db_session)
    assert comment.registration_id == registration.id
    assert fresh.get("/en/r/not-a-token/comment").status_code == 404

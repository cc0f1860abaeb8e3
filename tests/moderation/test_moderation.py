"""Organisers moderate comments, type in paper ones, decide on them and group near-identical ones."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from eventreg.db import unit_of_work
from eventreg.models import AuditEntry, Comment, CommentDecisionChange, CommentGroup, OutboxMessage
from eventreg.moderation import services
from tests.auth_helpers import login_as, make_user
from tests.factories import csrf_token, item, make_comment, make_document, make_event_session

BASE = "/en/organiser/comments"


@pytest.fixture
def organiser(app, client, db_session):
    return login_as(client, app, make_user(db_session, "organiser", name="Gulnara Organiser"))


def token(client) -> str:
    return csrf_token(client.get(f"{BASE}/enter").get_data(as_text=True))


def fresh(db_session, model, id_):
    db_session.expire_all()
    return db_session.get(model, id_)


def actions(db_session) -> list[str]:
    db_session.expire_all()
    return [e.action for e in db_session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_normalised_texts_ignore_case_spacing_and_punctuation():
    assert services.normalise_text("  Добавить  СЕЛЬСКИХ женщин!!! ") == services.normalise_text(
        "добавить сельских женщин"
    )
    assert services.similar(
        services.normalise_text("Прошу добавить сельских женщин в пункт 3.1"),
        services.normalise_text("Прошу добавить сельских женщин в пункт 3.1."),
    )
    assert not services.similar("добавить сельских женщин", "убрать раздел о финансировании полностью")


def test_queue_lists_new_comments_oldest_first_with_item_and_filters(client, db_session, organiser):
    document = make_document(db_session)
    older = make_comment(db_session, document, item(document, "3.1"), body="Первый комментарий")
    make_comment(db_session, document, item(document, "1"), body="Второй комментарий")
    make_comment(db_session, document, body="Уже опубликован", status="published")
    make_comment(db_session, document, body="Письмо министерству", source="letter")

    page = client.get(f"{BASE}/").get_data(as_text=True)
    assert page.index("Первый комментарий") < page.index("Второй комментарий")
    assert "Уже опубликован" not in page  # the queue shows new comments by default
    assert ">3.1<" in page
    assert f'href="{BASE}/{older.id}"' in page

    only_item = client.get(f"{BASE}/?item=3.1").get_data(as_text=True)
    assert "Первый комментарий" in only_item and "Второй комментарий" not in only_item
    letters = client.get(f"{BASE}/?source=letter").get_data(as_text=True)
    assert "Письмо министерству" in letters and "Первый комментарий" not in letters
    everything = client.get(f"{BASE}/?status=all").get_data(as_text=True)
    assert "Уже опубликован" in everything


def test_publish_hide_republish_and_merge_never_delete(client, db_session, organiser):
    document = make_document(db_session)
    comment = make_comment(db_session, document, body="Спам <b>реклама</b>")
    original = make_comment(db_session, document, body="Оригинал")
    duplicate = make_comment(db_session, document, body="Копия оригинала")
    csrf = token(client)

    assert client.post(f"{BASE}/{comment.id}/publish", data={"csrf_token": csrf}).status_code == 303
    assert fresh(db_session, Comment, comment.id).status == "published"

    assert (
        client.post(f"{BASE}/{comment.id}/hide", data={"csrf_token": csrf, "reason": "spam"}).status_code
        == 303
    )
    hidden = fresh(db_session, Comment, comment.id)
    assert (hidden.status, hidden.hidden_reason) == ("hidden", "spam")
    # still listed and readable, with the HTML shown as text
    assert "Спам &lt;b&gt;реклама&lt;/b&gt;" in client.get(f"{BASE}/?status=hidden").get_data(as_text=True)
    detail = client.get(f"{BASE}/{comment.id}").get_data(as_text=True)
    assert "Hidden" in detail and "Spam" in detail and "Publish again" in detail

    bad_reason = client.post(f"{BASE}/{comment.id}/hide", data={"csrf_token": csrf, "reason": "boring"})
    assert bad_reason.status_code == 400
    assert "Please choose one of the options offered." in bad_reason.get_data(as_text=True)

    client.post(f"{BASE}/{comment.id}/publish", data={"csrf_token": csrf})
    republished = fresh(db_session, Comment, comment.id)
    assert (republished.status, republished.hidden_reason) == ("published", None)

    response = client.post(f"{BASE}/{duplicate.id}/merge", data={"csrf_token": csrf, "target": original.id})
    assert response.status_code == 303
    merged = fresh(db_session, Comment, duplicate.id)
    assert (merged.status, merged.duplicate_of_id) == ("merged", original.id)
    assert f"{BASE}/{duplicate.id}" in client.get(f"{BASE}/{original.id}").get_data(as_text=True)

    assert db_session.query(Comment).count() == 3  # nothing was deleted
    assert actions(db_session) == ["comment.publish", "comment.hide", "comment.publish", "comment.merge"]
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "comment.merge")).one()
    assert (entry.object_type, entry.object_id, entry.user_id) == ("Comment", duplicate.id, organiser.id)
    assert entry.details["into"] == original.id


def test_merge_refuses_itself_other_documents_and_unknown_numbers(client, db_session, organiser):
    document = make_document(db_session)
    other = make_document(db_session)
    comment = make_comment(db_session, document)
    elsewhere = make_comment(db_session, other)
    csrf = token(client)
    for target, message in [
        (comment.id, "A comment cannot be a duplicate of itself."),
        (elsewhere.id, "The original comment must be on the same document."),
        (999999, "There is no comment with this number."),
    ]:
        response = client.post(f"{BASE}/{comment.id}/merge", data={"csrf_token": csrf, "target": target})
        assert response.status_code == 409
        assert message in response.get_data(as_text=True)
    assert fresh(db_session, Comment, comment.id).status == "new"
    assert actions(db_session) == []


def test_bulk_publish_and_hide_selected(client, db_session, organiser):
    document = make_document(db_session)
    first, second, third = (make_comment(db_session, document) for _ in range(3))
    csrf = token(client)
    response = client.post(
        f"{BASE}/bulk",
        data={"csrf_token": csrf, "ids": [first.id, second.id], "action": "publish", "return_to": f"{BASE}/"},
    )
    assert response.status_code == 303 and response.headers["Location"] == f"{BASE}/"
    assert "2 comments published." in client.get(f"{BASE}/").get_data(as_text=True)
    assert [fresh(db_session, Comment, c.id).status for c in (first, second, third)] == [
        "published",
        "published",
        "new",
    ]

    client.post(f"{BASE}/bulk", data={"csrf_token": csrf, "ids": [third.id], "action": "hide", "reason": ""})
    assert fresh(db_session, Comment, third.id).status == "new"  # hiding needs a reason
    client.post(
        f"{BASE}/bulk", data={"csrf_token": csrf, "ids": [third.id], "action": "hide", "reason": "abusive"}
    )
    assert fresh(db_session, Comment, third.id).hidden_reason == "abusive"
    # a return address on another site is ignored
    away = client.post(
        f"{BASE}/bulk",
        data={"csrf_token": csrf, "ids": [third.id], "action": "publish", "return_to": "//evil.example"},
    )
    assert away.headers["Location"] == f"{BASE}/"


def paper_form(document, event_session, **overrides) -> dict:
    data = {
        "document": str(document.id),
        "event_session": str(event_session.id),
        "source": "spoken",
        "language": "ky",
        "author_name": "Нарын облусунун аялдар кеңеши",
        "organisation": "Аялдар кеңеши",
        "sector": "civil_society",
        "region": "KG-N",
        "sex": "female",
        "email": "",
        "item_number": "3.1",
        "kind": "amendment",
        "body": "Айыл аялдары жөнүндө кошуу керек.",
        "proposed_wording": "",
    }
    data.update(overrides)
    return data


def test_paper_entry_of_several_comments_keeps_the_context(client, db_session, organiser):
    document = make_document(db_session)
    event_session = make_event_session(db_session, consultation=document_consultation(db_session, document))
    csrf = token(client)
    first = client.post(f"{BASE}/enter", data={"csrf_token": csrf, **paper_form(document, event_session)})
    assert first.status_code == 303
    form_again = client.get(first.headers["Location"]).get_data(as_text=True)
    # context kept, the comment itself empty
    assert 'value="Нарын облусунун аялдар кеңеши"' in form_again
    assert f'<option selected value="{event_session.id}">' in form_again
    assert '<option selected value="spoken">' in form_again
    assert 'name="item_number" type="text" value=""' in form_again
    assert "Айыл аялдары жөнүндө кошуу керек.</textarea>" not in form_again

    second = client.post(
        f"{BASE}/enter",
        data={
            "csrf_token": csrf,
            **paper_form(
                document, event_session, item_number="3.1.2.", body="Экинчи сунуш", kind="objection"
            ),
        },
    )
    assert second.status_code == 303
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "2 comments entered." in page
    assert page.index("Экинчи сунуш") < page.index("Айыл аялдары")  # newest first in the sitting's list

    db_session.expire_all()
    comments = list(db_session.scalars(select(Comment).order_by(Comment.id)))
    assert [(c.item.number, c.source, c.session_id, c.entered_by_id, c.status) for c in comments] == [
        ("3.1", "spoken", event_session.id, organiser.id, "new"),
        ("3.1.2", "spoken", event_session.id, organiser.id, "new"),
    ]
    entries = list(db_session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [(e.action, e.object_type, e.object_id) for e in entries] == [
        ("comment.enter", "Comment", comments[0].id),
        ("comment.enter", "Comment", comments[1].id),
    ]

    # a new sitting starts with an empty list
    client.post(f"{BASE}/enter/new-sitting", data={"csrf_token": csrf})
    assert "Nothing entered yet." in client.get(f"{BASE}/enter").get_data(as_text=True)


def document_consultation(db_session, document):
    from eventreg.models import Consultation

    return db_session.get(Consultation, document.consultation_id)


def test_paper_entry_problems_keep_what_was_typed(client, db_session, organiser):
    document = make_document(db_session)
    event_session = make_event_session(db_session, consultation=document_consultation(db_session, document))
    csrf = token(client)
    unknown = client.post(
        f"{BASE}/enter", data={"csrf_token": csrf, **paper_form(document, event_session, item_number="9.9")}
    )
    assert unknown.status_code == 400
    page = unknown.get_data(as_text=True)
    assert "This document has no item with this number." in page
    assert "Айыл аялдары жөнүндө кошуу керек.</textarea>" in page

    expired = client.post(
        f"{BASE}/enter", data={"csrf_token": "stale", **paper_form(document, event_session)}
    )
    assert expired.status_code == 400
    assert "The form had expired" in expired.get_data(as_text=True)
    assert "Айыл аялдары жөнүндө кошуу керек.</textarea>" in expired.get_data(as_text=True)

    other_session = make_event_session(db_session)  # another consultation
    mismatch = client.post(f"{BASE}/enter", data={"csrf_token": csrf, **paper_form(document, other_session)})
    assert mismatch.status_code == 400
    assert db_session.query(Comment).count() == 0
    assert actions(db_session) == []


def decide(client, comment_id, csrf, **fields):
    data = {
        "csrf_token": csrf,
        "decision": "",
        "part_ru": "",
        "part_ky": "",
        "part_en": "",
        "justification_ru": "",
        "justification_ky": "",
        "justification_en": "",
    }
    data.update(fields)
    return client.post(f"{BASE}/{comment_id}/decide", data=data)


def test_decisions_need_reason_or_part_and_keep_every_change(client, db_session, organiser):
    document = make_document(db_session)
    comment = make_comment(db_session, document, language="ky", status="published")
    csrf = token(client)

    no_reason = decide(client, comment.id, csrf, decision="rejected", justification_ru="Причина по-русски")
    assert no_reason.status_code == 400
    assert "A rejection needs its reason in the language of the comment." in no_reason.get_data(as_text=True)
    assert "Причина по-русски</textarea>" in no_reason.get_data(as_text=True)  # what was typed stays
    no_part = decide(client, comment.id, csrf, decision="partly_accepted")
    assert no_part.status_code == 400
    assert "Please say which part of the comment is accepted." in no_part.get_data(as_text=True)
    # the part, like a reason, must be readable by the author: a Kyrgyz comment needs it in Kyrgyz
    part_in_russian = decide(
        client, comment.id, csrf, decision="partly_accepted", part_ru="Первое предложение"
    )
    assert part_in_russian.status_code == 400
    html = part_in_russian.get_data(as_text=True)
    assert 'id="part_ky-errors"' in html and "Первое предложение</textarea>" in html
    assert fresh(db_session, Comment, comment.id).decision is None

    assert (
        decide(
            client, comment.id, csrf, decision="rejected", justification_ky="Стратегиянын алкагынан тышкары"
        ).status_code
        == 303
    )
    second_user = make_user(db_session, "organiser", name="Second Drafter")
    login_as(client, client.application, second_user)
    csrf = token(client)
    response = decide(
        client,
        comment.id,
        csrf,
        decision="partly_accepted",
        part_ky="Биринчи сүйлөм",
        part_ru="Первое предложение",
        justification_ky="Жарым-жартылай кабыл алынды",
        justification_en="Partly taken in",
    )
    assert response.status_code == 303
    assert (
        decide(
            client,
            comment.id,
            csrf,
            decision="partly_accepted",
            part_ky=" Биринчи сүйлөм ",  # spaces around it are no change
            part_ru="Первое предложение",
            justification_ky="Жарым-жартылай кабыл алынды",
            justification_en="Partly taken in",
        ).status_code
        == 303
    )

    current = fresh(db_session, Comment, comment.id)
    assert (current.decision, current.decision_part, current.decided_by_id) == (
        "partly_accepted",
        {"ky": "Биринчи сүйлөм", "ru": "Первое предложение"},
        second_user.id,
    )
    assert current.justification == {"ky": "Жарым-жартылай кабыл алынды", "en": "Partly taken in"}
    history = list(db_session.scalars(select(CommentDecisionChange).order_by(CommentDecisionChange.id)))
    # the identical second submission is not a change
    assert [(h.decision, h.user_id) for h in history] == [
        ("rejected", organiser.id),
        ("partly_accepted", second_user.id),
    ]
    assert all(h.created_at is not None for h in history)
    assert actions(db_session) == ["comment.decide", "comment.decide"]

    page = client.get(f"{BASE}/{comment.id}").get_data(as_text=True)
    history_part = page[page.index("History of decisions") :]
    assert "Gulnara Organiser" in history_part and "Second Drafter" in history_part
    assert "Стратегиянын алкагынан тышкары" in history_part
    assert "ky: Биринчи сүйлөм" in history_part and "ru: Первое предложение" in history_part
    assert history_part.index("Second Drafter") < history_part.index("Gulnara Organiser")  # newest first


def test_expired_decision_form_comes_back_with_the_justification(client, db_session, organiser):
    document = make_document(db_session)
    comment = make_comment(db_session, document)
    response = decide(
        client, comment.id, "expired", decision="rejected", justification_ru="Длинное обоснование"
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The form had expired" in page
    assert "Длинное обоснование</textarea>" in page
    assert fresh(db_session, Comment, comment.id).decision is None


def test_hidden_and_merged_comments_are_not_decided(db_session, app):
    with app.test_request_context():
        user = make_user(db_session, "organiser")
        document = make_document(db_session)
        comment = make_comment(db_session, document, status="hidden", hidden_reason="spam")
        other = make_comment(db_session, document)
        db_session.commit()
        with pytest.raises(services.NotDecidable), unit_of_work(db_session):
            services.decide_comment(db_session, comment.id, "noted", {}, None, by=user)
        with pytest.raises(services.UnknownDecision), unit_of_work(db_session):
            services.decide_comment(db_session, other.id, "maybe", {}, None, by=user)


def test_outcome_mail_only_when_results_are_published_and_email_given(db_session, app):
    with app.test_request_context("/ru/"):
        user = make_user(db_session, "organiser")
        unpublished = make_document(db_session)
        published = make_document(db_session, results_published=True)
        quiet = make_comment(db_session, unpublished, language="ky")
        told = make_comment(db_session, published, language="ky", email="aigul@example.kg")
        no_email = make_comment(db_session, published, email=None)

        db_session.commit()
        for comment, decision, reason in (
            (quiet, "accepted", {"ky": "Кабыл алынды"}),
            (no_email, "noted", {}),
            (told, "accepted", {"ky": "Кабыл алынды"}),
        ):
            with unit_of_work(db_session):
                services.decide_comment(db_session, comment.id, decision, reason, None, by=user)

        db_session.expire_all()
        (message,) = db_session.scalars(select(OutboxMessage)).all()
        assert (message.recipient, message.locale) == ("aigul@example.kg", "ky")
        assert "Кабыл алынды" in message.body_text
        assert db_session.get(Comment, told.id).outcome_notified_at is not None
        assert db_session.get(Comment, quiet.id).outcome_notified_at is None


def test_near_identical_comments_are_grouped_and_decided_together(client, db_session, organiser):
    document = make_document(db_session)
    clause = item(document, "3.1")
    campaign = [
        make_comment(db_session, document, clause, body="Просим включить сельских женщин в пункт 3.1!"),
        make_comment(db_session, document, clause, body="просим включить  сельских женщин в пункт 3.1"),
        make_comment(
            db_session, document, clause, body="Просим включить сельских женщин в пункт 3.1.", language="ky"
        ),
    ]
    make_comment(db_session, document, clause, body="Совсем другое предложение о финансировании")
    make_comment(
        db_session,
        document,
        item(document, "1"),
        body="Просим включить сельских женщин в пункт 3.1",
    )
    hidden = make_comment(
        db_session,
        document,
        clause,
        body="Просим включить сельских женщин в пункт 3.1",
        status="hidden",
        hidden_reason="spam",
    )

    (suggestion,) = services.find_group_candidates(db_session, document.id)
    assert [c.id for c in suggestion.comments] == [c.id for c in campaign]
    page = client.get(f"{BASE}/groups").get_data(as_text=True)
    assert "3 comments" in page

    csrf = token(client)
    response = client.post(
        f"{BASE}/groups",
        data={"csrf_token": csrf, "ids": [c.id for c in campaign], "label": "Сельские женщины"},
    )
    assert response.status_code == 303
    group = db_session.scalars(select(CommentGroup)).one()
    group_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sent by 3 people" in group_page
    assert services.find_group_candidates(db_session, document.id) == []
    # the same comments cannot be grouped twice
    again = client.post(f"{BASE}/groups", data={"csrf_token": csrf, "ids": [campaign[0].id, hidden.id]})
    assert "already in a group" in client.get(again.headers["Location"]).get_data(as_text=True)

    # a rejection needs the reason in every language the group's comments are written in
    missing = client.post(
        f"{BASE}/groups/{group.id}/decide",
        data={"csrf_token": csrf, "decision": "rejected", "justification_ru": "Не относится к стратегии"},
    )
    assert missing.status_code == 400
    assert "A rejection needs its reason in the language of the comment." in missing.get_data(as_text=True)

    decided = client.post(
        f"{BASE}/groups/{group.id}/decide",
        data={"csrf_token": csrf, "decision": "accepted", "justification_ru": "Учтено в пункте 3.1"},
    )
    assert decided.status_code == 303
    assert "The decision is recorded on 3 comments." in client.get(decided.headers["Location"]).get_data(
        as_text=True
    )
    db_session.expire_all()
    assert {fresh(db_session, Comment, c.id).decision for c in campaign} == {"accepted"}
    history = list(db_session.scalars(select(CommentDecisionChange)))
    assert sorted(h.comment_id for h in history) == sorted(c.id for c in campaign)
    assert actions(db_session) == ["comment.group"] + ["comment.decide"] * 3

    member_page = client.get(f"{BASE}/{campaign[0].id}").get_data(as_text=True)
    assert "Сельские женщины" in member_page and "sent by 3 people" in member_page
    client.post(f"{BASE}/{campaign[0].id}/ungroup", data={"csrf_token": csrf})
    assert fresh(db_session, Comment, campaign[0].id).group_id is None
    assert fresh(db_session, Comment, campaign[0].id).decision == "accepted"  # its decision stays
    assert actions(db_session)[-1] == "comment.ungroup"


def test_roles_anonymous_analyst_and_organiser(app, client, db_session):
    document = make_document(db_session)
    comment = make_comment(db_session, document, email="secret@example.kg")
    urls = [f"{BASE}/", f"{BASE}/{comment.id}", f"{BASE}/groups", f"{BASE}/enter"]

    if "accounts.login" in app.view_functions:
        for url in urls:
            assert client.get(url).status_code == 302

    login_as(client, app, make_user(db_session, "analyst"))
    queue = client.get(f"{BASE}/")
    assert queue.status_code == 200
    csrf = csrf_token(queue.get_data(as_text=True))
    assert "Publish selected" not in queue.get_data(as_text=True)
    detail = client.get(f"{BASE}/{comment.id}")
    assert detail.status_code == 200
    assert "secret@example.kg" not in detail.get_data(as_text=True)  # personal data is for organisers
    assert client.get(f"{BASE}/enter").status_code == 403
    for path, data in [
        (f"{comment.id}/publish", {}),
        (f"{comment.id}/hide", {"reason": "spam"}),
        (f"{comment.id}/merge", {"target": comment.id}),
        (f"{comment.id}/decide", {"decision": "noted"}),
        ("bulk", {"ids": [comment.id], "action": "publish"}),
        ("enter", {}),
        ("groups", {"ids": [comment.id]}),
    ]:
        assert client.post(f"{BASE}/{path}", data={"csrf_token": csrf, **data}).status_code == 403, path
    assert fresh(db_session, Comment, comment.id).status == "new"

    login_as(client, app, make_user(db_session, "admin"))
    assert "secret@example.kg" in client.get(f"{BASE}/{comment.id}").get_data(as_text=True)


def test_every_moderation_route_checks_roles(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("moderation."):
            view = app.view_functions[rule.endpoint]
            assert getattr(view, "required_roles", None), rule.rule

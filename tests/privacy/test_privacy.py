"""Personal data: consent with the notice's version, erasure by the participant, anonymising a finished
consultation - counts, comments and decisions always stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from eventreg.models import Comment, OutboxMessage, Registration
from eventreg.privacy.notice import PRIVACY_NOTICE_VERSION
from tests.factories import csrf_token, make_comment, make_consultation, make_event_session, now
from tests.factories_consultation import import_document
from tests.mail.test_mail import register


def registrations(db_session) -> list[Registration]:
    db_session.expire_all()
    return list(db_session.scalars(select(Registration).order_by(Registration.id)))


def comment_counts(db_session) -> list[tuple]:
    return db_session.execute(
        select(Comment.sex, Comment.region, Comment.sector, func.count())
        .group_by(Comment.sex, Comment.region, Comment.sector)
        .order_by(Comment.sex, Comment.region, Comment.sector)
    ).all()


def test_consent_records_the_notice_version_and_time(client, db_session):
    event = make_event_session(db_session)
    register(client, event.slug, lang="en", email="c@example.kg")
    (registration,) = registrations(db_session)
    assert registration.consent_notice_version == PRIVACY_NOTICE_VERSION
    assert registration.consent_at is not None
    comment = make_comment(db_session, import_document(db_session))
    assert comment.consent_notice_version == PRIVACY_NOTICE_VERSION


def test_the_privacy_notice_names_who_to_write_to(client, app):
    page = client.get("/en/privacy").get_data(as_text=True)
    assert app.config["PRIVACY_CONTACT"].split(" — ")[-1] in page
    assert PRIVACY_NOTICE_VERSION in page
    assert "Who to write to" in page


def test_a_participant_erases_their_data_from_the_personal_page(client, db_session):
    event = make_event_session(db_session, capacity=1, waitlist_enabled=True)
    register(
        client, event.slug, lang="en", email="first@example.kg", full_name="Бурул Асанова", phone="+996 555 1"
    )
    register(client, event.slug, lang="en", email="waiting@example.kg")
    first, waiting = registrations(db_session)
    assert (first.status, waiting.status) == ("confirmed", "waitlisted")
    document = import_document(db_session, consultation=event.consultation)
    comment = make_comment(
        db_session,
        document,
        registration_id=first.id,
        author_name="Бурул Асанова",
        email="first@example.kg",
        show_name=True,
        body="Добавить пункт о сельских женщинах.",
    )
    counts_before = comment_counts(db_session)
    token = first.token

    confirm = client.get(f"/en/r/{token}/erase")
    assert confirm.status_code == 200 and "no-store" in confirm.headers["Cache-Control"]
    assert client.post(f"/en/r/{token}/erase", data={}).status_code == 400  # no CSRF token: nothing happens
    assert registrations(db_session)[0].erased_at is None

    done = client.post(
        f"/en/r/{token}/erase", data={"csrf_token": csrf_token(confirm.get_data(as_text=True))}
    )
    assert done.status_code == 303
    first, waiting = registrations(db_session)
    assert first.status == "cancelled" and waiting.status == "confirmed"  # the place went to the next person
    assert (first.full_name, first.email, first.phone, first.accessibility_needs) == ("", "", None, None)
    assert (first.sector, first.region, first.sex) == ("civil_society", "KG-N", "female")
    assert first.erased_at is not None and first.token != token
    kept = db_session.get(Comment, comment.id)
    assert kept.body == "Добавить пункт о сельских женщинах."
    assert (kept.author_name, kept.email, kept.show_name) == ("", None, False)
    assert comment_counts(db_session) == counts_before
    assert client.get(f"/en/r/{token}").status_code == 404
    assert client.get(f"/en/r/{token}/erase").status_code == 404
    left = db_session.scalars(select(OutboxMessage)).all()
    assert all("first@example.kg" not in (m.recipient + m.body_text) for m in left)
    assert all("Бурул" not in m.body_text for m in left)
    # the person promoted is told
    assert any(m.recipient == "waiting@example.kg" and m.kind == "registration_promoted" for m in left)


def test_after_the_session_erasure_keeps_attendance_counted(client, db_session):
    event = make_event_session(db_session)
    register(client, event.slug, lang="en", email="was.there@example.kg")
    (registration,) = registrations(db_session)
    event.starts_at = now() - timedelta(days=2)
    event.ends_at = now() - timedelta(days=2) + timedelta(hours=6)
    db_session.commit()
    page = client.get(f"/en/r/{registration.token}/erase").get_data(as_text=True)
    client.post(f"/en/r/{registration.token}/erase", data={"csrf_token": csrf_token(page)})
    (registration,) = registrations(db_session)
    assert registration.status == "confirmed" and registration.email == "" and registration.erased_at


def _finished_consultation(db_session, **overrides):
    values = dict(comments_open_at=now() - timedelta(days=60), comments_close_at=now() - timedelta(days=1))
    values.update(overrides)
    consultation = make_consultation(db_session, **values)
    start = now() - timedelta(days=20)
    event = make_event_session(
        db_session,
        consultation,
        starts_at=start,
        ends_at=start + timedelta(hours=6),
        registration_deadline=start - timedelta(days=1),
    )
    return consultation, event


def test_anonymise_a_finished_consultation_keeps_counts_comments_and_decisions(runner, db_session):
    from tests.factories import make_registration

    consultation, event = _finished_consultation(db_session)
    people = [make_registration(db_session, event, sex=sex) for sex in ("female", "female", "male")]
    document = import_document(db_session, consultation=consultation)
    make_comment(db_session, document, email="author@example.kg", decision="accepted", status="published")
    other_consultation, other_event = _finished_consultation(db_session)
    untouched = make_registration(db_session, other_event)
    counts_before = comment_counts(db_session)

    result = runner.invoke(args=["privacy", "anonymise", "--consultation", consultation.slug])
    assert result.exit_code == 0, result.output
    assert "Anonymised 3 registration(s) and 1 comment(s)" in result.output
    db_session.expire_all()
    for person in people:
        row = db_session.get(Registration, person.id)
        assert (row.full_name, row.email, row.phone) == ("", "", None) and row.status == "confirmed"
    assert sorted(
        db_session.scalars(select(Registration.sex).where(Registration.session_id == event.id))
    ) == [
        "female",
        "female",
        "male",
    ]
    comment = db_session.scalars(select(Comment).where(Comment.document_id == document.id)).one()
    assert (comment.author_name, comment.email, comment.decision) == ("", None, "accepted")
    assert comment_counts(db_session) == counts_before
    assert db_session.get(Registration, untouched.id).email == untouched.email


def test_anonymise_refuses_while_the_consultation_is_open(runner, db_session):
    from tests.factories import make_registration

    consultation, event = _finished_consultation(db_session, comments_close_at=now() + timedelta(days=5))
    person = make_registration(db_session, event)
    result = runner.invoke(args=["privacy", "anonymise", "--consultation", consultation.slug])
    assert result.exit_code != 0
    assert "still open" in result.output
    db_session.expire_all()
    assert db_session.get(Registration, person.id).email == person.email
    assert runner.invoke(args=["privacy", "anonymise", "--consultation", "nope"]).exit_code != 0

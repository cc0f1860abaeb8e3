"""Mail as a participant receives it, from a real SMTP server on loopback, and the outage that loses nothing."""

from __future__ import annotations

import logging
from datetime import timedelta
from email.header import decode_header, make_header
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from eventreg.models import OutboxMessage, Registration
from tests.factories import csrf_token, make_event_session, now, registration_form
from tests.factories_mail import SMTPServer, calendar_event, parts

BASE = "https://consult.example.kg"
BISHKEK = ZoneInfo("Asia/Bishkek")
KYRGYZ_NAME = "Айгүл Өмүрбекова-Ңуруза"


@pytest.fixture
def smtp_server():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def app_config(smtp_server):
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "MAIL_DEFAULT_SENDER": "Консультация <noreply@consult.example.kg>",
    }


def register(client, slug, lang="ru", headers=None, **fields):
    page = client.get(f"/{lang}/sessions/{slug}", headers=headers or {})
    data = registration_form(**fields)
    data["csrf_token"] = csrf_token(page.get_data(as_text=True))
    return client.post(f"/{lang}/sessions/{slug}", data=data, headers=headers or {})


def outbox(db_session) -> list[OutboxMessage]:
    db_session.rollback()
    db_session.expire_all()
    return list(db_session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def registration(db_session, email) -> Registration:
    db_session.rollback()
    return db_session.scalars(select(Registration).where(Registration.email == email)).one()


def send(runner):
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    return result.output


def header(message, name) -> str:
    return str(make_header(decode_header(message[name])))


def test_confirmation_arrives_in_kyrgyz_with_html_link_and_calendar(client, db_session, runner, smtp_server):
    start = (
        (now() + timedelta(days=12)).astimezone(BISHKEK).replace(hour=10, minute=0, second=0, microsecond=0)
    )
    event = make_event_session(db_session, starts_at=start, ends_at=start + timedelta(hours=6))
    # A forged Host header must not leak into the links: they come from BASE_URL.
    response = register(
        client,
        event.slug,
        lang="ky",
        full_name=KYRGYZ_NAME,
        email="aigul@example.kg",
        headers={"Host": "evil.example"},
    )
    assert response.status_code == 303
    reg = registration(db_session, "aigul@example.kg")
    (queued,) = outbox(db_session)
    assert queued.status == "pending" and queued.locale == "ky"

    send(runner)

    (delivered,) = smtp_server.messages()
    assert smtp_server.inbox[0]["rcpt_tos"] == ["aigul@example.kg"]
    assert smtp_server.inbox[0]["mail_from"] == "noreply@consult.example.kg"
    assert delivered["Message-ID"].strip() == queued.message_id
    assert delivered["Auto-Submitted"] == "auto-generated"
    assert delivered["Content-Language"] == "ky"
    assert delivered["To"] == "aigul@example.kg"
    assert header(delivered, "From") == "Консультация <noreply@consult.example.kg>"
    assert header(delivered, "Subject") == queued.subject
    assert delivered["Date"]
    # every part is UTF-8 and survives the round trip with ң ө ү intact
    text, html, attachments = parts(delivered)
    assert KYRGYZ_NAME in text and KYRGYZ_NAME in html
    assert "Нарындагы консультация" in text  # the session title in Kyrgyz
    link = f"{BASE}/ky/r/{reg.token}"
    assert link in text and f'href="{link}"' in html
    assert "evil.example" not in text + html
    assert "(UTC+6)" in text or "UTC+6" in text
    for part in delivered.walk():
        if part.get_content_maintype() == "text":
            assert part.get_content_charset() == "utf-8"

    (ics,) = attachments
    assert ics.get_content_type() == "text/calendar"
    assert ics.get_filename() == "session.ics"
    calendar, vevent = calendar_event(ics)
    assert str(calendar["METHOD"]) == "PUBLISH"
    starts = vevent.decoded("DTSTART")
    assert starts == start and starts.utcoffset() == timedelta(hours=6)
    assert starts.astimezone(BISHKEK).hour == 10
    assert str(starts.tzinfo) == "Asia/Bishkek"
    assert vevent.decoded("DTEND") == start + timedelta(hours=6)
    assert str(vevent["SUMMARY"]) == "Нарындагы консультация"
    assert str(vevent["LOCATION"]) == "Нарын, мэрия"
    assert str(vevent["URL"]) == link
    assert link in str(vevent["DESCRIPTION"])
    assert str(vevent["UID"]) == f"registration-{reg.id}@consult.example.kg"

    db_session.expire_all()
    (row,) = outbox(db_session)
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 1


def test_html_body_escapes_what_people_typed(client, db_session, runner, smtp_server):
    event = make_event_session(db_session)
    register(client, event.slug, lang="en", full_name="<b>Aigul</b> & co", email="x@example.kg")
    send(runner)
    text, html, _ = parts(smtp_server.messages()[0])
    assert "&lt;b&gt;Aigul&lt;/b&gt; &amp; co" in html
    assert "<b>Aigul" not in html
    assert "Dear <b>Aigul</b> & co," in text  # plain text is not HTML: shown as typed


def test_russian_registration_gets_russian_link_and_uid_is_stable(client, db_session, runner, smtp_server):
    event = make_event_session(db_session)
    register(client, event.slug, lang="ru", email="ru@example.kg")
    reg = registration(db_session, "ru@example.kg")
    # changing one's details sends another calendar file for the same event (same UID)
    page = client.get(f"/ru/r/{reg.token}/edit")
    data = registration_form(email="ru@example.kg", full_name="Гүлнара")
    data.pop("consent")
    data["csrf_token"] = csrf_token(page.get_data(as_text=True))
    assert client.post(f"/ru/r/{reg.token}/edit", data=data).status_code == 303
    send(runner)
    confirmed, changed = smtp_server.messages()
    assert f"{BASE}/ru/r/{reg.token}" in parts(confirmed)[0]
    assert "Гүлнара" in parts(changed)[0]
    assert header(confirmed, "Subject") != header(changed, "Subject")
    assert parts(changed)[2] == []  # a change of details needs no new calendar entry
    assert confirmed["Message-ID"] != changed["Message-ID"]


def test_waitlisted_mail_states_the_position(client, db_session, runner, smtp_server):
    event = make_event_session(db_session, capacity=1)
    register(client, event.slug, lang="en", email="one@example.kg")
    register(client, event.slug, lang="en", email="two@example.kg")
    register(client, event.slug, lang="en", email="three@example.kg")
    send(runner)
    by_recipient = {m["To"]: m for m in smtp_server.messages()}
    text, html, attachments = parts(by_recipient["three@example.kg"])
    assert "You are number 2 on the waiting list." in text
    assert "You are number 2 on the waiting list." in html
    assert attachments == []  # no calendar entry until there is a place
    assert "You are number 1 on the waiting list." in parts(by_recipient["two@example.kg"])[0]


def test_promotion_and_cancellation_carry_calendar_updates(client, db_session, runner, smtp_server):
    event = make_event_session(db_session, capacity=1)
    register(client, event.slug, lang="en", email="first@example.kg")
    register(client, event.slug, lang="en", email="second@example.kg")
    first = registration(db_session, "first@example.kg")
    second = registration(db_session, "second@example.kg")
    page = client.get(f"/en/r/{first.token}/cancel")
    client.post(f"/en/r/{first.token}/cancel", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    send(runner)
    kinds = [m.kind for m in outbox(db_session)]
    assert kinds == [
        "registration_confirmed",
        "registration_waitlisted",
        "registration_cancelled",
        "registration_promoted",
    ]
    messages = smtp_server.messages()
    cancel_calendar, cancel_event = calendar_event(parts(messages[2])[2][0])
    assert str(cancel_calendar["METHOD"]) == "CANCEL"
    assert str(cancel_event["UID"]) == f"registration-{first.id}@consult.example.kg"
    promoted_text, _, (promoted_ics,) = parts(messages[3])
    assert f"{BASE}/en/r/{second.token}" in promoted_text
    assert calendar_event(promoted_ics)[1].decoded("DTSTART") == event.starts_at.replace(microsecond=0)


def test_outage_loses_nothing_and_delivers_exactly_once(client, db_session, runner, smtp_server):
    event = make_event_session(db_session)
    smtp_server.stop()

    response = register(client, event.slug, lang="ky", full_name=KYRGYZ_NAME, email="outage@example.kg")
    assert response.status_code == 303  # the participant is not bothered by the mail server being down
    reg = registration(db_session, "outage@example.kg")
    assert reg.status == "confirmed"
    (message,) = outbox(db_session)
    assert message.status == "pending"

    before = now()
    assert "will retry 1" in send(runner)
    (message,) = outbox(db_session)
    assert message.status == "pending"
    assert message.attempts == 1
    assert message.last_error and "outage@example.kg" not in message.last_error
    assert timedelta(seconds=50) < message.next_attempt_at - before < timedelta(minutes=2)
    assert smtp_server.inbox == []

    # Not due yet: running the sender again changes nothing.
    send(runner)
    assert outbox(db_session)[0].attempts == 1

    smtp_server.start()
    message.next_attempt_at = now() - timedelta(seconds=1)  # the minute has passed
    db_session.commit()
    result = runner.invoke(args=["mail", "work", "--max-loops", "1", "--remind-every", "0"])
    assert result.exit_code == 0, result.output
    assert len(smtp_server.inbox) == 1
    (delivered,) = smtp_server.messages()
    assert KYRGYZ_NAME in parts(delivered)[0]
    assert delivered["Message-ID"].strip() == message.message_id

    runner.invoke(args=["mail", "work", "--max-loops", "2", "--interval", "0", "--remind-every", "0"])
    send(runner)
    assert len(smtp_server.inbox) == 1
    (message,) = outbox(db_session)
    assert message.status == "sent" and message.attempts == 2 and message.last_error is None


def test_reminder_the_day_before_is_sent_once_however_often_it_runs(client, db_session, runner, smtp_server):
    tomorrow = make_event_session(
        db_session, starts_at=now() + timedelta(hours=20), ends_at=now() + timedelta(hours=26)
    )
    later = make_event_session(
        db_session, starts_at=now() + timedelta(days=5), ends_at=now() + timedelta(days=5, hours=2)
    )
    # registration is closed by the deadline for tomorrow's session, so people are added directly
    from eventreg.db import unit_of_work
    from eventreg.registration.services import register_participant
    from tests.factories import participant_details

    def add(event, email, lang):
        details = participant_details(full_name=KYRGYZ_NAME, email=email, locale=lang)
        with unit_of_work(db_session):
            return register_participant(db_session, event.id, details, now=now() - timedelta(days=3))

    tomorrow.capacity = 2
    db_session.commit()
    add(tomorrow, "a@example.kg", "ky")
    add(tomorrow, "b@example.kg", "ru")
    add(tomorrow, "waiting@example.kg", "en")  # waitlisted: no reminder
    add(later, "later@example.kg", "en")  # not tomorrow: no reminder yet
    send(runner)
    smtp_server.inbox.clear()

    assert runner.invoke(args=["mail", "remind"]).output.strip() == "Queued 2 reminder(s)."
    assert runner.invoke(args=["mail", "remind"]).output.strip() == "Queued 0 reminder(s)."
    send(runner)
    runner.invoke(args=["mail", "work", "--max-loops", "1"])  # the worker's own reminder run adds nothing
    send(runner)
    assert sorted(m["To"] for m in smtp_server.messages()) == ["a@example.kg", "b@example.kg"]
    reminders = [m for m in outbox(db_session) if m.kind == "session_reminder"]
    assert len(reminders) == 2
    ky = next(m for m in smtp_server.messages() if m["To"] == "a@example.kg")
    text, _, (ics,) = parts(ky)
    assert KYRGYZ_NAME in text and "/ky/r/" in text
    assert calendar_event(ics)[1].decoded("DTSTART") == tomorrow.starts_at.replace(microsecond=0)


def test_without_smtp_messages_are_logged_and_marked_sent(client, db_session, runner, app, caplog):
    app.config["MAIL_SERVER"] = None
    event = make_event_session(db_session)
    register(client, event.slug, lang="en", email="nosmtp@example.kg")
    reg = registration(db_session, "nosmtp@example.kg")
    with caplog.at_level(logging.INFO, logger="eventreg.mail.sender"):
        send(runner)
    (message,) = outbox(db_session)
    assert message.status == "sent" and message.sent_at is not None
    logged = caplog.text
    assert f"message {message.id} (registration_confirmed)" in logged
    # production logs carry no personal data
    assert "nosmtp@example.kg" not in logged and reg.token not in logged

    app.config["DEVELOPMENT"] = True
    register(client, event.slug, lang="en", email="dev@example.kg")
    dev = registration(db_session, "dev@example.kg")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="eventreg.mail.sender"):
        send(runner)
    # in development the whole message is shown, so `make run` users can follow the link
    assert f"{BASE}/en/r/{dev.token}" in caplog.text
    assert "session.ics" in caplog.text


def test_make_run_shows_mail_in_the_console_without_a_worker(client, db_session, app, caplog):
    # `make run`: development, no mail server, no worker process; the link must still reach the console.
    app.config.update(MAIL_SERVER=None, DEVELOPMENT=True, TESTING=False)
    event = make_event_session(db_session)
    with caplog.at_level(logging.INFO, logger="eventreg.mail.sender"):
        register(client, event.slug, lang="ru", email="dev@example.kg")
    reg = registration(db_session, "dev@example.kg")
    assert f"{BASE}/ru/r/{reg.token}" in caplog.text
    assert outbox(db_session)[0].status == "sent"

"""The sender's guarantees (backoff, leases, no double claims) and the organisers' outbox pages."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from eventreg.db import Base
from eventreg.extensions import db
from eventreg.mail import notify, sender
from eventreg.mail.outbox import enqueue
from eventreg.models import AuditEntry, OutboxMessage, Registration
from eventreg.registration.links import personal_link
from tests.auth_helpers import login_as, make_user
from tests.factories import csrf_token, make_event_session, now
from tests.factories_mail import SMTPServer, calendar_event, parts
from tests.mail.test_mail import register

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def smtp_server():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def app_config(smtp_server):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port, "MAIL_MAX_ATTEMPTS": 4}


def queue(db_session, n=1, **overrides) -> list[OutboxMessage]:
    messages = []
    for i in range(n):
        values = dict(
            kind="registration_confirmed",
            recipient=f"person{i}@example.kg",
            subject="Орун ырасталды",
            body_text="Саламатсызбы, Айгүл! ң ө ү",
            locale="ky",
        )
        values.update(overrides)
        messages.append(enqueue(db_session, **values))
    db_session.commit()
    return messages


def rows(db_session) -> list[OutboxMessage]:
    db_session.rollback()
    db_session.expire_all()
    return list(db_session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


# --- retries, leases, claims --------------------------------------------------------------------


def test_failures_back_off_1_5_15_minutes_then_fail_for_good(db_session, smtp_server):
    (message,) = queue(db_session)
    smtp_server.stop()
    clock = now()
    expected_delays = [1, 5, 15]
    for attempt, minutes in enumerate(expected_delays, start=1):
        report = sender.send_due(db_session, now=clock)
        assert report.retrying == [message.id]
        (row,) = rows(db_session)
        assert (row.status, row.attempts) == ("pending", attempt)
        assert row.next_attempt_at == clock + timedelta(minutes=minutes)
        # one second before it is due nothing happens
        assert sender.send_due(db_session, now=row.next_attempt_at - timedelta(seconds=1)).attempted == 0
        clock = row.next_attempt_at
    report = sender.send_due(db_session, now=clock)
    assert report.failed == [message.id]
    (row,) = rows(db_session)
    assert (row.status, row.attempts) == ("failed", 4)
    assert "Connection" in row.last_error or "refused" in row.last_error.lower()
    # a failed message is left alone by later passes
    assert sender.send_due(db_session, now=clock + timedelta(days=1)).attempted == 0


def test_errors_are_recorded_without_addresses():
    refused = smtplib.SMTPRecipientsRefused({"person0@example.kg": (550, b"no such user person0@example.kg")})
    error = sender.safe_error(refused)
    assert "person0" not in error and "550" in error
    assert sender.safe_error(OSError("cannot reach x@example.kg")) == "OSError: cannot reach <address>"


def test_crashed_workers_lease_expires_and_the_message_is_sent_once(db_session, smtp_server):
    (message,) = queue(db_session)
    clock = now()
    assert sender.claim_due(db_session, now=clock) == [message.id]  # this worker then "dies"
    (row,) = rows(db_session)
    assert row.status == "sending" and row.next_attempt_at > clock
    # while the lease holds, nobody else takes it
    assert sender.send_due(db_session, now=clock + timedelta(seconds=10)).attempted == 0
    assert smtp_server.inbox == []
    # after the lease another worker delivers it
    later = row.next_attempt_at + timedelta(seconds=1)
    assert sender.send_due(db_session, now=later).sent == [message.id]
    assert len(smtp_server.inbox) == 1
    assert sender.send_due(db_session, now=later + timedelta(hours=1)).attempted == 0
    assert len(smtp_server.inbox) == 1
    assert rows(db_session)[0].status == "sent"


def test_a_stale_worker_cannot_overwrite_a_newer_outcome(db_session):
    (message,) = queue(db_session)
    clock = now()
    sender.claim_due(db_session, now=clock)
    old_lease = rows(db_session)[0].next_attempt_at
    # the lease ran out and a second worker claimed it again
    sender.claim_due(db_session, now=old_lease + timedelta(seconds=1))
    assert sender._finish(db_session, message.id, old_lease, status="sent") is False
    assert rows(db_session)[0].status == "sending"


def test_parallel_workers_never_claim_the_same_message(app, db_session):
    queue(db_session, n=30)
    results: list[list[int]] = []
    barrier = threading.Barrier(3)

    def worker():
        with app.app_context():
            barrier.wait()
            claimed = []
            for _ in range(5):
                claimed += sender.claim_due(db.session, limit=4)
            results.append(claimed)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    claimed = [i for r in results for i in r]
    assert len(claimed) == len(set(claimed)) == 30
    assert {r.status for r in rows(db_session)} == {"sending"}


def test_worker_stops_cleanly_on_sigterm(tmp_path, smtp_server):
    url = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "test",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_server.port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "mail", "work", "--interval", "0.2"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        output = ""
        while "mail worker started" not in output and time.monotonic() < deadline:
            output += process.stdout.readline()
        assert "mail worker started" in output
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "mail worker stopped" in rest


# --- messages sent by organisers' actions -------------------------------------------------------


def test_session_changed_and_cancelled_mails(client, db_session, smtp_server):
    event = make_event_session(db_session)
    register(client, event.slug, lang="en", email="p@example.kg")
    reg = db_session.scalars(select(Registration)).one()
    new_start = event.starts_at + timedelta(days=1)
    event.starts_at, event.ends_at = new_start, new_start + timedelta(hours=3)
    event.venue = {"en": "Naryn, new hall", "ru": "Нарын, новый зал"}
    db_session.flush()
    notify.session_changed(db_session, reg, link=personal_link(reg))
    notify.session_cancelled(db_session, reg, link=personal_link(reg))
    db_session.commit()
    sender.send_due(db_session)
    _, changed, cancelled = smtp_server.messages()
    text, html, (ics,) = parts(changed)
    assert "Naryn, new hall" in text and "Naryn, new hall" in html
    _, vevent = calendar_event(ics)
    assert vevent.decoded("DTSTART") == new_start.replace(microsecond=0)
    assert str(vevent["LOCATION"]) == "Naryn, new hall"
    cal, _ = calendar_event(parts(cancelled)[2][0])
    assert str(cal["METHOD"]) == "CANCEL"


# --- organiser pages ----------------------------------------------------------------------------


def test_outbox_is_for_organisers_only(client, app, db_session):
    assert client.get("/en/organiser/mail/").status_code in (302, 401)
    login_as(client, app, make_user(db_session, role="analyst"))
    assert client.get("/en/organiser/mail/").status_code == 403
    assert client.get("/en/organiser/mail/write").status_code == 403


def test_outbox_lists_filters_counts_and_retries_a_failed_message(client, app, db_session, smtp_server):
    sent, failed, pending = queue(db_session, n=3)
    sent.status, sent.sent_at = "sent", now()
    failed.status, failed.attempts, failed.last_error = "failed", 4, "SMTPServerDisconnected: closed"
    pending.next_attempt_at = now() + timedelta(hours=1)
    db_session.commit()
    organiser = login_as(client, app, make_user(db_session, role="organiser"))

    page = client.get("/en/organiser/mail/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "1 message waiting" in html and "1 message sent" in html and "1 message failed" in html
    assert "person1@example.kg" in html and "Орун ырасталды" in html
    assert "Саламатсызбы" not in html  # no bodies in the list

    failed_only = client.get("/en/organiser/mail/?status=failed").get_data(as_text=True)
    assert "person1@example.kg" in failed_only and "person0@example.kg" not in failed_only
    assert "SMTPServerDisconnected" in failed_only
    assert client.get("/en/organiser/mail/?status=<script>").status_code == 200

    # GET never retries; POST without a token does not either
    assert client.post(f"/en/organiser/mail/{failed.id}/retry").status_code == 400
    assert rows(db_session)[1].status == "failed"
    token = csrf_token(failed_only)
    response = client.post(f"/en/organiser/mail/{failed.id}/retry", data={"csrf_token": token})
    assert response.status_code == 303
    row = rows(db_session)[1]
    assert (row.status, row.attempts) == ("pending", 0)
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "mail.retry")).one()
    assert entry.object_id == failed.id and entry.user_id == organiser.id
    # retrying something that did not fail is refused with a message, not an error
    again = client.post(
        f"/en/organiser/mail/{sent.id}/retry", data={"csrf_token": token}, follow_redirects=True
    )
    assert "Only a failed message can be sent again." in again.get_data(as_text=True)
    assert client.post("/en/organiser/mail/99999/retry", data={"csrf_token": token}).status_code == 303

    sender.send_due(db_session)
    assert [m["To"] for m in smtp_server.messages()] == ["person1@example.kg"]


def test_writing_to_all_participants_of_a_session(client, app, db_session, smtp_server):
    event = make_event_session(
        db_session, capacity=2, title={"en": "Bishkek working group", "ru": "Рабочая группа"}
    )
    other = make_event_session(db_session)
    register(client, event.slug, lang="ky", email="a@example.kg")
    register(client, event.slug, lang="en", email="b@example.kg")
    register(client, event.slug, lang="en", email="waiting@example.kg")
    register(client, other.slug, lang="en", email="other@example.kg")
    sender.send_due(db_session)
    smtp_server.inbox.clear()
    organiser = login_as(client, app, make_user(db_session, role="organiser"))

    form = client.get(f"/en/organiser/mail/write?session={event.id}").get_data(as_text=True)
    assert "Bishkek working group" in form
    token = csrf_token(form)
    body = "The hall changed to room 3.\nPlease bring <your> ID & a pen."
    data = {"csrf_token": token, "session_id": str(event.id), "subject": "Room change · Ң", "body": body}

    # an empty subject comes back with everything typed
    bad = client.post("/en/organiser/mail/write", data={**data, "subject": ""})
    assert bad.status_code == 400 and "room 3" in bad.get_data(as_text=True)
    # an expired token too
    expired = client.post("/en/organiser/mail/write", data={**data, "csrf_token": "stale"})
    assert expired.status_code == 400 and "room 3" in expired.get_data(as_text=True)
    assert client.post("/en/organiser/mail/write", data={**data, "session_id": "abc"}).status_code == 400

    response = client.post("/en/organiser/mail/write", data=data, follow_redirects=True)
    assert "Your message is queued for 2 participants." in response.get_data(as_text=True)
    written = [m for m in rows(db_session) if m.kind == "organiser_message"]
    assert sorted(m.recipient for m in written) == ["a@example.kg", "b@example.kg"]
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "mail.write_to_session")).one()
    assert entry.object_id == event.id and entry.user_id == organiser.id and entry.details["recipients"] == 2

    client.post("/en/organiser/mail/write", data={**data, "include_waitlisted": "y"})
    written = [m for m in rows(db_session) if m.kind == "organiser_message"]
    assert len(written) == 5

    sender.send_due(db_session)
    delivered = smtp_server.messages()
    assert len(delivered) == 5 and "other@example.kg" not in {m["To"] for m in delivered}
    a = next(m for m in delivered if m["To"] == "a@example.kg")
    text, html, _ = parts(a)
    reg_a = db_session.scalars(select(Registration).where(Registration.email == "a@example.kg")).one()
    assert "Please bring <your> ID & a pen." in text
    assert "Please bring &lt;your&gt; ID &amp; a pen." in html
    assert f"https://consult.example.kg/ky/r/{reg_a.token}" in text


def test_writing_to_a_session_nobody_registered_for(client, app, db_session):
    event = make_event_session(db_session)
    login_as(client, app, make_user(db_session, role="organiser"))
    token = csrf_token(client.get("/en/organiser/mail/write").get_data(as_text=True))
    response = client.post(
        "/en/organiser/mail/write",
        data={"csrf_token": token, "session_id": str(event.id), "subject": "Hi", "body": "Hello"},
    )
    assert response.status_code == 409
    assert "Nobody is registered for this session yet" in response.get_data(as_text=True)
    assert rows(db_session) == []


def test_comment_author_hears_the_decision_in_their_language_once(db_session, smtp_server):
    from eventreg.models import Comment, Document, DocumentItem
    from tests.factories import make_consultation

    consultation = make_consultation(db_session)
    document = Document(
        consultation_id=consultation.id,
        key="strategy",
        title={"ky": "Гендердик теңчилик стратегиясы", "en": "Gender equality strategy"},
    )
    db_session.add(document)
    db_session.flush()
    item = DocumentItem(document_id=document.id, number="3.1.2", position=1, text={"ky": "Текст"})
    db_session.add(item)
    db_session.flush()

    def comment(email, decision, language="ky"):
        c = Comment(
            document_id=document.id,
            item_id=item.id,
            kind="amendment",
            body="Аялдардын экономикалык мүмкүнчүлүктөрүн <кеңейтүү>",
            language=language,
            author_name="Гүлмира Өмүрова",
            sector="civil_society",
            region="KG-O",
            sex="female",
            email=email,
            status="published",
            decision=decision,
            justification={"ky": "Стратегияга кошулду", "en": "Added to the strategy"},
            decided_at=now(),
        )
        db_session.add(c)
        return c

    comment("gulmira@example.kg", "accepted")
    comment(None, "rejected")  # no e-mail: nobody to tell
    comment("undecided@example.kg", None)  # not decided yet
    db_session.flush()
    assert notify.notify_published_outcomes(db_session, document) == 1
    db_session.commit()
    assert notify.notify_published_outcomes(db_session, document) == 0
    db_session.commit()
    sender.send_due(db_session)
    (delivered,) = smtp_server.messages()
    assert delivered["To"] == "gulmira@example.kg" and delivered["Content-Language"] == "ky"
    text, html, attachments = parts(delivered)
    assert "Гүлмира Өмүрова" in text and "Гендердик теңчилик стратегиясы, 3.1.2" in text
    assert "Стратегияга кошулду" in text and "Стратегияга кошулду" in html
    assert "&lt;кеңейтүү&gt;" in html and attachments == []


def test_logs_in_when_a_username_is_configured(app, db_session):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    logins = []

    def authenticator(_server, _session, _envelope, mechanism, data):
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"mailer", b"s3cret")
        logins.append((mechanism, ok))
        return AuthResult(success=ok)

    server = SMTPServer(authenticator=authenticator, auth_require_tls=False).start()
    try:
        app.config.update(MAIL_PORT=server.port, MAIL_USERNAME="mailer", MAIL_PASSWORD="s3cret")
        queue(db_session)
        assert len(sender.send_due(db_session).sent) == 1
        assert logins and all(ok for _m, ok in logins)
        assert len(server.inbox) == 1
    finally:
        server.stop()

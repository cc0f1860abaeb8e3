"""One way to change data: many people acting at once lose nothing, and two organisers cannot undo each other.

Each scenario runs against a live server with real parallel requests, on SQLite and on PostgreSQL. The
controls switch the locks off (a test-only setting) and must fail, which shows the main tests would
notice if the locks ever stopped working.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import create_engine, event, select, text

from eventreg.db import UnitOfWorkRequired, unit_of_work
from eventreg.extensions import db
from eventreg.models import Comment, CommentDecisionChange, OutboxMessage, Registration
from eventreg.moderation import services as moderation
from eventreg.reports import services as reports
from tests.auth_helpers import PASSWORD, make_user
from tests.conftest import LiveServer, make_test_app
from tests.factories import (
    csrf_token,
    make_comment,
    make_consultation,
    make_document,
    make_event_session,
    registration_form,
)
from tests.factories_consultation import comment_form, import_document

pytestmark = pytest.mark.slow

BURST = 40


def _live(database_url, tmp_path, **config):
    app = make_test_app(database_url, tmp_path, **config)
    return app


def _dispose(app):
    app.extensions["eventreg.db"]["engine"].dispose()


def _all_at_once(jobs):
    """Run the callables together: each waits at a barrier, so the requests leave at the same moment."""
    barrier = threading.Barrier(len(jobs))

    def run(job):
        barrier.wait()
        return job()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


# --- a room submitting together ---------------------------------------------------------------------


def test_a_burst_of_comments_and_registrations_is_stored_whole(database_url, tmp_path):
    app = _live(database_url, tmp_path)
    with app.app_context():
        consultation = make_consultation(db.session)
        document = import_document(db.session, consultation)
        consultation_slug, key = consultation.slug, document.key
        event_session = make_event_session(db.session, consultation=consultation, capacity=10)
        slug, event_id, document_id = event_session.slug, event_session.id, document.id
    with LiveServer(app) as server:
        jobs = []
        for index in range(BURST):
            http = requests.Session()
            url = f"{server.url}/ky/consultation/{consultation_slug}/{key}/items/1.1/comment"
            token = csrf_token(http.get(url, timeout=30).text)
            body = f"Пункт 1.1: айыл аялдарын кошуу керек — {index}. " + "Узун пикир. " * 40
            data = comment_form(body=body, csrf_token=token)
            jobs.append(
                lambda http=http, url=url, data=data: http.post(
                    url, data=data, allow_redirects=False, timeout=90
                )
            )
        for index in range(BURST):
            http = requests.Session()
            url = f"{server.url}/ky/sessions/{slug}"
            token = csrf_token(http.get(url, timeout=30).text)
            data = registration_form(email=f"burst{index}@example.kg", csrf_token=token)
            jobs.append(
                lambda http=http, url=url, data=data: http.post(
                    url, data=data, allow_redirects=False, timeout=90
                )
            )
        responses = _all_at_once(jobs)
    statuses = [r.status_code for r in responses]
    assert all(status < 500 for status in statuses), statuses
    assert statuses == [303] * (2 * BURST), "every submission is stored and answered with its next page"
    with app.app_context():
        comments = db.session.scalars(select(Comment).where(Comment.document_id == document_id)).all()
        registrations = db.session.scalars(
            select(Registration).where(Registration.session_id == event_id)
        ).all()
        bodies = sorted(c.body for c in comments)
        mail = db.session.scalars(select(OutboxMessage)).all()
    _dispose(app)
    assert len(comments) == BURST and len({c.body for c in comments}) == BURST
    assert all("Узун пикир." in b for b in bodies), "nothing half-stored: every comment whole"
    assert len(registrations) == BURST
    assert sum(r.status == "confirmed" for r in registrations) == 10
    # one message per registration, queued in the same unit of work as the registration itself
    assert len(mail) == BURST


# --- two organisers at the same moment -----------------------------------------------------------------


def _organiser_http(server_url: str, email: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{server_url}/en/login", timeout=30)
    response = http.post(
        f"{server_url}/en/login",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(page.text)},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 303, "the organiser is logged in"
    return http


def _merge_crosswise(database_url, tmp_path, **config):
    app = _live(database_url, tmp_path, **config)
    with app.app_context():
        first, second = make_user(db.session, "organiser"), make_user(db.session, "organiser")
        document = make_document(db.session)
        a, b = make_comment(db.session, document), make_comment(db.session, document)
        emails, ids = (first.email, second.email), (a.id, b.id)
    with LiveServer(app) as server:
        one, two = (_organiser_http(server.url, email) for email in emails)

        def merge(http, comment_id, into_id):
            url = f"{server.url}/en/organiser/comments/{comment_id}"
            token = csrf_token(http.get(url, timeout=30).text)
            return lambda: http.post(
                f"{url}/merge",
                data={"target": into_id, "csrf_token": token},
                allow_redirects=False,
                timeout=60,
            )

        responses = _all_at_once([merge(one, ids[0], ids[1]), merge(two, ids[1], ids[0])])
    with app.app_context():
        a, b = (db.session.get(Comment, i) for i in ids)
        state = {c.id: (c.status, c.duplicate_of_id) for c in (a, b)}
    _dispose(app)
    return [r.status_code for r in responses], [r.text for r in responses], state, ids


def test_two_organisers_merging_crosswise_leave_exactly_one_original(database_url, tmp_path):
    statuses, pages, state, (a, b) = _merge_crosswise(database_url, tmp_path)
    assert sorted(statuses) == [303, 409], statuses
    refused = pages[statuses.index(409)]
    assert "That comment is itself a duplicate" in refused, "the second organiser is told why"
    assert state in (
        {a: ("merged", b), b: ("new", None)},
        {a: ("new", None), b: ("merged", a)},
    ), state


def test_control_without_the_lock_merging_crosswise_loses_both(database_url, tmp_path):
    statuses, _, state, (a, b) = _merge_crosswise(
        database_url, tmp_path, TESTING_SKIP_LOCKS=True, TESTING_RACE_WINDOW=0.3
    )
    assert 500 not in statuses
    merged = [cid for cid, (status, _) in state.items() if status == "merged"]
    assert len(merged) == 2, "without the lock both merges go through, or the test above proves nothing"


def test_two_decisions_at_once_are_both_in_the_history_and_the_later_counts(database_url, tmp_path):
    app = _live(database_url, tmp_path)
    with app.app_context():
        first, second = make_user(db.session, "organiser"), make_user(db.session, "organiser")
        document = make_document(db.session)
        comment_id = make_comment(db.session, document).id
        emails = (first.email, second.email)
    with LiveServer(app) as server:
        jobs = []
        for email, decision in zip(emails, ("accepted", "noted"), strict=True):
            http = _organiser_http(server.url, email)
            url = f"{server.url}/en/organiser/comments/{comment_id}"
            token = csrf_token(http.get(url, timeout=30).text)
            data = {
                "decision": decision,
                "part_ru": "",
                "justification_ru": f"Решение: {decision}",
                "csrf_token": token,
            }
            jobs.append(
                lambda http=http, url=url, data=data: http.post(
                    f"{url}/decide", data=data, allow_redirects=False, timeout=60
                )
            )
        responses = _all_at_once(jobs)
    assert [r.status_code for r in responses] == [303, 303]
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        history = db.session.scalars(
            select(CommentDecisionChange)
            .where(CommentDecisionChange.comment_id == comment_id)
            .order_by(CommentDecisionChange.created_at, CommentDecisionChange.id)
        ).all()
        current, decisions = comment.decision, [h.decision for h in history]
    _dispose(app)
    assert sorted(decisions) == ["accepted", "noted"]
    assert current == decisions[-1], "the decision recorded last is the current one"


# --- a busy database: retried, then answered with everything typed ---------------------------------------


def _hold_sqlite_write_lock(database_url: str):
    engine = create_engine(database_url)
    connection = engine.raw_connection()
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("BEGIN IMMEDIATE")
    return engine, connection


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_locked_database_gives_back_the_comment_to_send_again(database_url, tmp_path):
    app = _live(database_url, tmp_path, SQLITE_BUSY_TIMEOUT_MS=100, DB_RETRY_ATTEMPTS=2)
    with app.app_context():
        consultation = make_consultation(db.session)
        document = import_document(db.session, consultation)
        url = f"/ky/consultation/{consultation.slug}/{document.key}/items/1.1/comment"
        document_id = document.id
    client = app.test_client()
    token = csrf_token(client.get(url).get_data(as_text=True))
    typed = "Пункт 1.1 боюнча узун пикир: айыл аялдарынын үнүн угуу керек. " * 5
    engine, holder = _hold_sqlite_write_lock(database_url)
    try:
        response = client.post(url, data=comment_form(body=typed, csrf_token=token))
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert typed.strip() in page, "what was typed is on the page"
    assert f'<form method="post" action="{url}" class="resend">' in page, "a button sends it all again"
    # the page's own form sends it again, now that the database is free
    resend = {name: value for name, value in _hidden_fields(page)}
    again = client.post(url, data=resend)
    assert again.status_code == 303
    with app.app_context():
        assert db.session.scalars(select(Comment.body).where(Comment.document_id == document_id)).all() == [
            typed.strip()
        ]
    _dispose(app)


def _hidden_fields(page: str):
    import re

    for match in re.finditer(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page):
        import html

        yield match.group(1), html.unescape(match.group(2))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_lock_released_during_the_retries_stores_the_comment(database_url, tmp_path):
    app = _live(database_url, tmp_path, SQLITE_BUSY_TIMEOUT_MS=200, DB_RETRY_ATTEMPTS=5)
    with app.app_context():
        consultation = make_consultation(db.session)
        document = import_document(db.session, consultation)
        url = f"/ru/consultation/{consultation.slug}/{document.key}/comment"
    client = app.test_client()
    token = csrf_token(client.get(url).get_data(as_text=True))
    engine, holder = _hold_sqlite_write_lock(database_url)
    release = threading.Timer(0.3, holder.rollback)
    release.start()
    try:
        response = client.post(url, data=comment_form(csrf_token=token))
    finally:
        release.join()
        holder.close()
        engine.dispose()
    assert response.status_code == 303, "the retry got through once the lock was gone"
    _dispose(app)


# --- the convention itself ------------------------------------------------------------------------------


def test_services_refuse_to_write_outside_a_unit_of_work(db_session, app):
    with app.test_request_context("/ru/"):
        user = make_user(db_session, "organiser")
        comment = make_comment(db_session, make_document(db_session))
        with pytest.raises(UnitOfWorkRequired):
            moderation.publish_comment(db_session, comment.id, by=user)
        # services compose inside one unit; they never open a second one
        with unit_of_work(db_session), pytest.raises(UnitOfWorkRequired), unit_of_work(db_session):
            pass
        db_session.get(Comment, comment.id).body = "changed outside"
        with pytest.raises(UnitOfWorkRequired), unit_of_work(db_session):
            pass
        db_session.rollback()
        assert db_session.get(Comment, comment.id).status == "new", "nothing was written"


def test_services_compose_and_nothing_is_kept_when_one_fails(db_session, app):
    with app.test_request_context("/ru/"):
        user = make_user(db_session, "organiser")
        document = make_document(db_session)
        a, b = make_comment(db_session, document), make_comment(db_session, document)
        with pytest.raises(moderation.ReasonRequired), unit_of_work(db_session):
            moderation.publish_comment(db_session, a.id, by=user)
            moderation.decide_comment(db_session, b.id, "rejected", {}, None, by=user)  # no reason: refused
        assert db_session.get(Comment, a.id).status == "new", "the publish in the same unit is undone too"


def test_every_way_a_unit_of_work_ends_lets_the_next_writer_in(db_session, app):
    """On SQLite the writers of one process queue for the write lock (eventreg.db): a unit that commits,
    is refused or breaks must leave the queue, or every later write of the process would wait."""
    from eventreg.db import _writer_queues

    def queue_free() -> bool:
        return not any(queue.lock.locked() for queue in _writer_queues.values())

    with app.test_request_context("/ru/"):
        user = make_user(db_session, "organiser")
        comment = make_comment(db_session, make_document(db_session))
        with unit_of_work(db_session):
            if db_session.get_bind().dialect.name == "sqlite":
                assert not queue_free(), "the unit holds its place in the queue"
            moderation.publish_comment(db_session, comment.id, by=user)
        assert queue_free()
        with pytest.raises(moderation.ReasonRequired), unit_of_work(db_session):
            moderation.decide_comment(db_session, comment.id, "rejected", {}, None, by=user)
        assert queue_free()
        with pytest.raises(ZeroDivisionError), unit_of_work(db_session):
            1 / 0  # noqa: B018
        assert queue_free()
        with unit_of_work(db_session):
            pass
        assert queue_free()
        assert db_session.get(Comment, comment.id).status == "published"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_writer_queued_past_the_busy_timeout_is_told_the_database_is_locked(database_url, tmp_path):
    """The queue spends the busy timeout once: a writer still waiting gets SQLite's own transient error,
    which the dispatcher retries and then answers with the "send again" page, instead of waiting again."""
    from sqlalchemy.exc import OperationalError

    from eventreg.db import is_transient

    app = _live(database_url, tmp_path, SQLITE_BUSY_TIMEOUT_MS=150)
    holding, done = threading.Event(), threading.Event()

    def hold_the_queue():
        with app.app_context(), unit_of_work(db.session):
            holding.set()
            done.wait(10)

    begun_here = []  # BEGIN statements this (the waiting) thread sent to SQLite

    def note_begin(_conn, _cursor, statement, *_args):
        if statement.startswith("BEGIN") and threading.current_thread() is threading.main_thread():
            begun_here.append(statement)

    holder = threading.Thread(target=hold_the_queue)
    holder.start()
    try:
        assert holding.wait(10)
        with app.app_context():
            engine = db.session.get_bind()
            event.listen(engine, "before_cursor_execute", note_begin)
            try:
                with pytest.raises(OperationalError) as refused, unit_of_work(db.session):
                    pass
            finally:
                event.remove(engine, "before_cursor_execute", note_begin)
        assert is_transient(refused.value)
        assert begun_here == [], "it did not go on to wait a second time at SQLite's own lock"
    finally:
        done.set()
        holder.join()
    with app.app_context(), unit_of_work(db.session):
        pass  # the queue is free again once the holder has committed
    _dispose(app)


def test_the_mail_package_imports_without_any_area(tmp_path):
    probe = (
        "import sys, eventreg.mail.notify, eventreg.mail.outbox, eventreg.mail.sender, eventreg.mail.ics\n"
        "areas = ('registration', 'consultation', 'moderation', 'organiser', 'reports', 'accounts')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[:2] in [['eventreg', a] for a in areas])\n"
        "print(loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout


def _statements_to_publish(app, db_session, how_many: int) -> tuple[int, int]:
    with app.test_request_context("/ru/"):
        user = make_user(db_session, "organiser")
        document = make_document(db_session)
        for n in range(how_many):
            make_comment(
                db_session,
                document,
                email=f"author{n}@example.kg",
                decision="accepted",
                justification={"ru": "Да"},
            )
        db_session.commit()
        counted = []

        def count(*_args):
            counted.append(1)

        engine = db_session.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            with unit_of_work(db_session):
                told = reports.publish_results(db_session, document.id, by=user)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return told, len(counted)


def test_publishing_outcomes_takes_the_same_statements_for_20_or_200_comments(db_session, app):
    told_few, few = _statements_to_publish(app, db_session, 20)
    told_many, many = _statements_to_publish(app, db_session, 200)
    assert (told_few, told_many) == (20, 200)
    assert many == few, f"{few} statements for 20 comments, {many} for 200"
    with app.app_context():
        assert db_session.scalar(text("select count(*) from outbox")) == 220

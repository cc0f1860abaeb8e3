"""Session evaluation: invitations after the session, one answer per registration, the door short link,
and a summary by sex and sector that equals the download."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import select

from eventreg.db import unit_of_work
from eventreg.evaluation import services
from eventreg.mail import sender
from eventreg.models import EvaluationAnswer, OutboxMessage
from tests.auth_helpers import login_as, make_user
from tests.factories import csrf_token, make_event_session, make_registration, now
from tests.factories_mail import SMTPServer, parts

ANSWER = {"expectations": "4", "usefulness": "5", "organisation": "3", "again": "yes"}


@pytest.fixture
def smtp_server():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def app_config(smtp_server):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port, "MAIL_MAX_ATTEMPTS": 4}


@pytest.fixture
def ended(db_session):
    start = now() - timedelta(hours=8)
    return make_event_session(db_session, starts_at=start, ends_at=start + timedelta(hours=6), capacity=20)


@pytest.fixture
def people(db_session, ended):
    t = now() - timedelta(hours=7)
    return {
        "aigul": make_registration(db_session, ended, checked_in_at=t, sex="female", locale="ky"),
        "nurlan": make_registration(
            db_session, ended, checked_in_at=t, sex="male", sector="state", locale="ru"
        ),
        "absent": make_registration(db_session, ended, sex="female"),
        "walk_in": make_registration(
            db_session, ended, checked_in_at=t, email="", email_normalized="walk-in:x", source="walk_in"
        ),
        "waiting": make_registration(db_session, ended, "waitlisted"),
    }


def invite(db_session, ended, **kwargs) -> int:
    with unit_of_work(db_session):
        return services.open_evaluation(db_session, ended.id, **kwargs)


def test_invitation_is_delivered_through_smtp_to_checked_in_people_in_their_language(
    app, db_session, ended, people, smtp_server
):
    with unit_of_work(db_session):
        queued = services.open_due_evaluations(db_session)
    assert queued == 2  # checked in with an e-mail; not the absent, the walk-in without e-mail, the waiting
    assert invite(db_session, ended) == 0  # once per person
    sender.send_due(db_session)
    delivered = {m["To"]: m for m in smtp_server.messages()}
    assert set(delivered) == {people["aigul"].email, people["nurlan"].email}
    text, html, _attachments = parts(delivered[people["aigul"].email])
    assert f"/ky/r/{people['aigul'].token}/evaluation" in text
    assert f"/ky/r/{people['aigul'].token}/evaluation" in html
    # confirmed people too, when the organiser chooses: only the newly asked person is added
    assert invite(db_session, ended, include_confirmed=True) == 1
    kinds = db_session.scalars(
        select(OutboxMessage.recipient).where(OutboxMessage.kind == "evaluation_invitation")
    )
    assert people["absent"].email in set(kinds)


def test_one_answer_per_registration_changeable_until_the_evaluation_closes(
    client, db_session, ended, people
):
    invite(db_session, ended)
    token = people["aigul"].token
    personal = client.get(f"/ky/r/{token}").get_data(as_text=True)
    assert f"/ky/r/{token}/evaluation" in personal
    form = client.get(f"/ky/r/{token}/evaluation").get_data(as_text=True)
    assert "Толугу менен" in form and "<script" not in form  # a word at each point, in Kyrgyz
    bad = client.post(f"/ky/r/{token}/evaluation", data={"csrf_token": csrf_token(form), "again": "yes"})
    assert bad.status_code == 400
    client.post(
        f"/ky/r/{token}/evaluation", data={"csrf_token": csrf_token(form), **ANSWER, "most_useful": "Ң"}
    )
    client.post(
        f"/ky/r/{token}/evaluation", data={"csrf_token": csrf_token(form), **ANSWER, "organisation": "5"}
    )
    db_session.expire_all()
    answers = db_session.scalars(select(EvaluationAnswer)).all()
    assert len(answers) == 1 and answers[0].organisation == 5 and answers[0].most_useful == ""
    again = client.get(f"/ru/r/{token}/evaluation").get_data(as_text=True)
    assert 'value="5" checked' in again or 'checked id="organisation-4"' in again or "checked" in again
    # not asked: the absent person (confirmed, not checked in) gets no form
    assert client.get(f"/ky/r/{people['absent'].token}/evaluation").status_code == 404
    # closed: no change any more
    with unit_of_work(db_session):
        services.close_evaluation(db_session, ended.id, by=None)
    client.post(
        f"/ky/r/{token}/evaluation", data={"csrf_token": csrf_token(form), **ANSWER, "organisation": "1"}
    )
    db_session.expire_all()
    assert db_session.scalars(select(EvaluationAnswer)).one().organisation == 5


def test_walk_in_without_email_answers_by_the_short_link_shown_at_the_door(
    app, client, db_session, ended, people
):
    invite(db_session, ended)
    organiser = make_user(db_session, role="organiser")
    desk = app.test_client()
    login_as(desk, app, organiser)
    code = services.round_for(db_session, ended.id).code
    door = desk.get(f"/ky/organiser/sessions/{ended.id}/door").get_data(as_text=True)
    assert f"/ky/e/{code}" in door and 'class="qr-code"' in door
    form = client.get(f"/ky/e/{code}").get_data(as_text=True)
    response = client.post(
        f"/ky/e/{code}", data={"csrf_token": csrf_token(form), **ANSWER, "sex": "female", "sector": "media"}
    )
    assert response.status_code == 200
    answer = db_session.scalars(select(EvaluationAnswer)).one()
    assert answer.registration_id is None and answer.sex == "female" and answer.sector == "media"


def test_summary_by_sex_and_sector_equals_the_download(app, client, db_session, ended, people):
    invite(db_session, ended)
    round_id = services.round_for(db_session, ended.id).id
    with unit_of_work(db_session):
        services.save_answer(
            db_session,
            round_id,
            services.AnswerData(5, 4, 3, "yes", "Talks"),
            registration_id=people["aigul"].id,
        )
        services.save_answer(
            db_session,
            round_id,
            services.AnswerData(3, 2, 1, "no", "", "Time"),
            registration_id=people["nurlan"].id,
        )
        services.save_answer(db_session, round_id, services.AnswerData(4, 4, 4, "not_sure", sex="female"))
    login_as(client, app, make_user(db_session, role="analyst"))
    page = client.get(f"/en/reports/evaluations?session={ended.id}").get_data(as_text=True)
    assert "Evaluation by sex" in page and "Evaluation by sector" in page and "Talks" in page

    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/en/reports/evaluations.xlsx?session={ended.id}").data)
    )
    sheets = {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in workbook.worksheets}
    by_session = sheets["Evaluation by session"]
    assert by_session[1][:7] == ["Consultation in Naryn", 3, 3, 100, 4, 3.33, 2.67]
    by_sex = {row[0]: row for row in sheets["Evaluation by sex"][1:]}
    assert by_sex["Female"][1:3] == [2, 4.5] and by_sex["Male"][1:3] == [1, 3]
    assert by_sex["Female"][3:8] == [0, 0, 0, 1, 1]  # expectations: one 4, one 5
    by_sector = {row[0]: row for row in sheets["Evaluation by sector"][1:]}
    assert by_sector["State body"][1] == 1
    # the same figures on the page as in the file
    for value in ("4.5", "3.33", "2.67"):
        assert value in page

    rows = list(
        csv.reader(
            io.StringIO(
                client.get(f"/en/reports/evaluations.csv?session={ended.id}")
                .get_data(as_text=True)
                .lstrip("\ufeff")
            )
        )
    )
    assert len(rows) == 4
    flat = " ".join(" ".join(r) for r in rows)
    assert "@example.kg" not in flat and "+996" not in flat  # no contact data


def test_the_worker_invites_after_a_session_ends_without_a_cron_line(db_session, people, runner, smtp_server):
    result = runner.invoke(args=["mail", "work", "--max-loops", "1"])
    assert result.exit_code == 0, result.output
    runner.invoke(args=["mail", "work", "--max-loops", "1"])  # a second pass asks nobody twice
    delivered = sorted(m["To"] for m in smtp_server.messages())
    assert delivered == sorted([people["aigul"].email, people["nurlan"].email])

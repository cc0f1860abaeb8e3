"""Mail that cannot vanish: no worker marks mail sent without a mail server outside development, and sent
messages keep their text only for the stated retention period."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import create_engine, select

from eventreg import create_app
from eventreg.config import PROJECT_ROOT
from eventreg.db import Base, unit_of_work
from eventreg.mail import retention
from eventreg.mail.outbox import enqueue
from eventreg.models import OutboxMessage
from tests.factories import now


def _flask(tmp_path, *args, **env_overrides):
    url = f"sqlite:///{tmp_path / 'mail.sqlite3'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if k not in ("MAIL_SERVER", "EVENTREG_ENV", "FLASK_DEBUG")}
    env.update({"DATABASE_URL": url, "SECRET_KEY": "test", **env_overrides})
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "mail", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_outside_development_the_worker_refuses_to_run_without_a_mail_server(tmp_path):
    for command in (["work", "--max-loops", "1"], ["send"]):
        result = _flask(tmp_path, *command)
        assert result.returncode != 0, command
        assert "MAIL_SERVER is not set" in result.stderr
        assert "Sent" not in result.stdout


def test_in_development_the_worker_may_log_instead(tmp_path):
    result = _flask(tmp_path, "send", EVENTREG_ENV="development")
    assert result.returncode == 0, result.stderr
    assert "Sent 0" in result.stdout


def test_the_web_app_says_at_start_up_that_mail_will_not_leave(tmp_path, caplog):
    config = {"SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'w.sqlite3'}", "MAIL_SERVER": None}
    with caplog.at_level(logging.WARNING, logger="eventreg.mail.readiness"):
        app = create_app(config)
    assert "will NOT leave" in caplog.text
    app.extensions["eventreg.db"]["engine"].dispose()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="eventreg.mail.readiness"):
        app = create_app({**config, "MAIL_SERVER": "127.0.0.1"})
    assert "will NOT leave" not in caplog.text
    app.extensions["eventreg.db"]["engine"].dispose()


def test_bodies_of_sent_messages_are_cleared_after_the_retention_period(db_session):
    with unit_of_work(db_session):
        old, recent, waiting = (
            enqueue(
                db_session,
                kind="t",
                recipient=f"p{i}@example.kg",
                subject="S",
                body_text="link /r/x",
                body_html="<p>link</p>",
                attachments=[{"filename": "a.ics"}],
                locale="ky",
            )
            for i in range(3)
        )
        old.status, old.sent_at = "sent", now() - timedelta(days=31)
        recent.status, recent.sent_at = "sent", now() - timedelta(days=29)
        waiting.created_at = now() - timedelta(days=60)
    with unit_of_work(db_session):
        assert retention.clear_sent_bodies(db_session, days=30) == 1
    db_session.expire_all()
    by_id = {m.id: m for m in db_session.scalars(select(OutboxMessage))}
    assert (by_id[old.id].body_text, by_id[old.id].body_html, by_id[old.id].attachments) == ("", None, [])
    assert by_id[old.id].recipient == "p0@example.kg" and by_id[old.id].subject == "S"
    assert by_id[recent.id].body_text == "link /r/x"
    assert by_id[waiting.id].body_text == "link /r/x"  # never sent: kept until it is
    with unit_of_work(db_session):
        assert retention.clear_sent_bodies(db_session, days=30) == 0

"""`flask --app app mail send | work | remind`: the outbox worker and the reminder job."""

from __future__ import annotations

import logging
import signal
import threading
import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from eventreg.db import run_in_unit_of_work
from eventreg.extensions import db
from eventreg.logs import log_error
from eventreg.mail import retention, sender, services
from eventreg.mail.readiness import MailNotConfigured, require_mail_server

log = logging.getLogger(__name__)

RETENTION_EVERY_SECONDS = 3600  # clearing old message bodies is a table scan: hourly is plenty

mail_cli = AppGroup("mail", help="Send queued e-mail and reminders.")


@mail_cli.command("send")
def send() -> None:
    """Send every message that is due now, once."""
    _refuse_without_mail_server()
    report = sender.send_due(db.session)
    cleared = run_in_unit_of_work(db.session, lambda: retention.clear_sent_bodies(db.session))
    if cleared:
        click.echo(
            f"Cleared the text of {cleared} message(s) sent more than {retention.retention_days()} days ago."
        )
    click.echo(f"Sent {len(report.sent)}, will retry {len(report.retrying)}, failed {len(report.failed)}.")


@mail_cli.command("remind")
def remind() -> None:
    """Queue the day-before reminders (safe to run twice: nobody is reminded twice)."""
    queued = run_in_unit_of_work(db.session, lambda: services.queue_reminders(db.session))
    click.echo(f"Queued {queued} reminder(s).")


@mail_cli.command("work")
@click.option("--interval", default=10.0, show_default=True, help="Seconds to wait when the outbox is empty.")
@click.option(
    "--remind-every",
    default=900.0,
    show_default=True,
    help="Seconds between reminder runs (0 turns reminders off in the worker).",
)
@click.option("--max-loops", type=int, default=None, help="Stop after this many passes (for tests).")
def work(interval: float, remind_every: float, max_loops: int | None) -> None:
    """Keep sending until SIGTERM or Ctrl+C; the message being sent is finished first."""
    _refuse_without_mail_server()
    stop = threading.Event()
    restore = _stop_on_signals(stop)
    try:
        run_worker(current_app._get_current_object(), stop, interval, remind_every, max_loops)
    finally:
        restore()


def _refuse_without_mail_server() -> None:
    """Outside development and tests: a clear message and a non-zero exit, never mail marked sent unsent."""
    try:
        require_mail_server(current_app.config)
    except MailNotConfigured as exc:
        raise click.ClickException(str(exc)) from exc


def run_worker(
    app: Flask, stop: threading.Event, interval: float, remind_every: float, max_loops: int | None
) -> int:
    """The worker loop; returns how many passes it made. Each pass gets a fresh database session."""
    loops = 0
    last_reminders = last_retention = float("-inf")
    log.info("mail worker started")
    while not stop.is_set() and (max_loops is None or loops < max_loops):
        loops += 1
        attempted = 0
        try:
            with app.app_context():
                if remind_every > 0 and time.monotonic() - last_reminders >= remind_every:
                    run_in_unit_of_work(db.session, lambda: services.queue_reminders(db.session))
                    last_reminders = time.monotonic()
                # Steps the areas hand the worker (held places that expired, …), each its own unit of work.
                for step in app.extensions.get("eventreg.worker_steps", ()):
                    run_in_unit_of_work(db.session, lambda step=step: step(db.session))
                attempted = sender.send_due(db.session).attempted
                if time.monotonic() - last_retention >= RETENTION_EVERY_SECONDS:
                    run_in_unit_of_work(db.session, lambda: retention.clear_sent_bodies(db.session))
                    last_retention = time.monotonic()
        except Exception as error:
            # A database hiccup must not end the worker; it tries again after the pause.
            log_error(log, error, "mail worker pass failed")
        if max_loops is not None and loops >= max_loops:
            break
        if not attempted:
            stop.wait(interval)
    log.info("mail worker stopped after %s pass(es)", loops)
    return loops


def _stop_on_signals(stop: threading.Event):
    """Turn SIGTERM/SIGINT into a clean stop; returns a function that puts the old handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # signals only reach the main thread

    def handler(signum, _frame):
        log.info("mail worker got signal %s, stopping after the current batch", signum)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore


def init_app(app: Flask) -> None:
    app.cli.add_command(mail_cli)

"""`flask evaluations invite`: for cron or the worker, after sessions end."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from eventreg.db import run_in_unit_of_work
from eventreg.evaluation import services
from eventreg.extensions import db

evaluations_cli = AppGroup("evaluations", help="Session evaluations.")


@evaluations_cli.command("invite")
def invite() -> None:
    """Open the evaluation of every session that has just ended and queue its invitations."""
    queued = run_in_unit_of_work(db.session, lambda: services.open_due_evaluations(db.session))
    click.echo(f"{queued} evaluation invitation(s) queued.")


def init_app(app: Flask) -> None:
    app.cli.add_command(evaluations_cli)

"""`flask --app app privacy anonymise --consultation SLUG`: names and contacts go once a consultation ended."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from eventreg.db import run_in_unit_of_work
from eventreg.extensions import db
from eventreg.privacy import services

privacy_cli = AppGroup("privacy", help="Personal data: anonymise a finished consultation.")


@privacy_cli.command("anonymise")
@click.option("--consultation", "slug", required=True, help="The consultation's slug.")
def anonymise(slug: str) -> None:
    """Remove names, e-mails and phones of a finished consultation; counts, comments and decisions stay."""
    try:
        registrations, comments = run_in_unit_of_work(
            db.session, lambda: services.anonymise_consultation(db.session, slug)
        )
    except services.ConsultationNotFound as exc:
        raise click.ClickException(f"No consultation with the slug {slug!r}.") from exc
    except services.ConsultationStillOpen as exc:
        raise click.ClickException(
            f"Consultation {slug!r} is still open (comments accepted or a session not yet over): "
            "its participants may still need to be reached. Nothing was changed."
        ) from exc
    click.echo(f"Anonymised {registrations} registration(s) and {comments} comment(s) of {slug}.")


def init_app(app: Flask) -> None:
    app.cli.add_command(privacy_cli)

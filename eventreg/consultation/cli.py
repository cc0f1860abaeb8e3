"""`flask --app app documents import FILE [FILE...] --consultation SLUG`: load a draft from files."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from eventreg.consultation.importer import import_files
from eventreg.db import run_in_unit_of_work
from eventreg.extensions import db
from eventreg.i18n import languages
from eventreg.models import Consultation

documents_cli = AppGroup("documents", help="Draft documents.")


@documents_cli.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--consultation", "slug", required=True, help="Slug of the consultation the document belongs to."
)
@click.option("--lang", default="en", show_default=True, help="Language of the messages.")
def import_command(files: tuple[Path, ...], slug: str, lang: str) -> None:
    """Import FILES (one side-by-side file, or one file per language) as a new version of a document.

    Nothing is stored if any file has a problem; every problem is listed with its line.
    """
    with force_locale(lang if lang in languages() else "en"):
        consultation = db.session.scalars(select(Consultation).where(Consultation.slug == slug)).first()
        if consultation is None:
            raise click.ClickException(f"No consultation with the slug {slug!r}.")
        contents = [(path.name, path.read_bytes()) for path in files]
        document, problems = run_in_unit_of_work(
            db.session,
            lambda: import_files(db.session, consultation.id, contents, list(languages()), source="cli"),
        )
        if problems:
            for problem in problems:
                click.echo(str(problem), err=True)
            raise click.ClickException(f"{len(problems)} problem(s) found; nothing was imported.")
        items = len(document.items)
        click.echo(f"Imported {document.key} version {document.version} ({items} items) into {slug}.")


def init_app(app: Flask) -> None:
    app.cli.add_command(documents_cli)

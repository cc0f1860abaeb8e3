"""`flask --app app users create EMAIL --role admin`: how a fresh install gets its first admin."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from eventreg.accounts import services
from eventreg.db import run_in_unit_of_work
from eventreg.extensions import db

users_cli = AppGroup("users", help="Staff accounts.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(services.ROLES), required=True)
@click.option("--name", default="", help="The person's name, shown in the audit log.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of asking for it.",
)
def create(email: str, role: str, name: str, password_stdin: bool) -> None:
    """Create an account for EMAIL with ROLE; the password is asked for twice, hidden."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = run_in_unit_of_work(
            db.session, lambda: services.create_user(db.session, email, password, role, name=name)
        )
    except services.EmailTaken:
        raise click.ClickException(f"An account with the e-mail {email} already exists.") from None
    except services.PasswordTooShort:
        raise click.ClickException(
            f"The password must have at least {services.MIN_PASSWORD_LENGTH} characters."
        ) from None
    click.echo(f"Created {user.role} account {user.email}.")


def init_app(app: Flask) -> None:
    app.cli.add_command(users_cli)

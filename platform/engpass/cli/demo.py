"""``engpass demo``: demo organizations and logins, safe to run again."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from engpass.db import db
from engpass.demo.data import DEMO_PASSWORD, load_demo


@click.command("demo", help="Load the demo organizations and users (idempotent).")
@with_appcontext
def demo_command() -> None:
    with db.transaction() as session:
        logins = load_demo(session)
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for email, description in logins:
        click.echo(f"  {email:<28} {description}")

"""``engpass outbox``: relay pending work by hand."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from engpass.db import db
from engpass.outbox.service import EXTENSION_KEY, pending_count, relay


@click.group("outbox", help="Work waiting for the workers.")
def outbox_group() -> None:
    pass


@outbox_group.command("relay")
@with_appcontext
def relay_command() -> None:
    """Hand every pending message to the broker now."""
    session = db.factory()
    try:
        result = relay(session, current_app.extensions[EXTENSION_KEY])
        click.echo(f"published={result.published} failed={result.failed} pending={pending_count(session)}")
    finally:
        session.close()

"""``engpass digest``: weekly digests by hand."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from engpass.db import db
from engpass.digest.sending import send_round, this_hour


@click.group("digest", help="Weekly digest e-mails.")
def digest_group() -> None:
    pass


@digest_group.command("send-due")
@click.option("--now", "everyone", is_flag=True, help="Treat every user as due (each still gets one per week).")
@with_appcontext
def send_due_command(everyone: bool) -> None:
    """Send the digests due in this hour, in this process; the send log keeps each to one e-mail."""
    session = db.factory()
    try:
        sent = send_round(session, this_hour(), everyone=everyone)
        click.echo(f"sent={sent}")
    finally:
        session.close()

"""``engpass trends``: the trend snapshots by hand."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from engpass import task_names
from engpass.db import db
from engpass.outbox.models import OutboxMessage
from engpass.outbox.service import enqueue


@click.group("trends", help="The weekly trend snapshots, the radar and the portfolio documents.")
def trends_group() -> None:
    pass


@trends_group.command("rebuild")
@with_appcontext
def rebuild_command() -> None:
    """Have the workers rewrite every organization's snapshots, every week, in batches across them.

    The nightly run recomputes only the organizations due; run this after a release that computes the
    figures differently, or after data was changed around the application (by hand, by a restore).
    """
    session = db.factory()
    try:
        message_id = enqueue(session, task_names.RECOMPUTE_ALL_TRENDS, full=True).id
        # The commit hands it to the broker (the outbox's relay after commit).
        session.commit()
        relayed = session.scalar(select(OutboxMessage.relayed_at).where(OutboxMessage.id == message_id))
    finally:
        session.close()
    if relayed is not None:
        click.echo("queued: the workers rebuild every organization's trends")
    else:
        click.echo("recorded: the outbox sweep hands the rebuild to the workers once the broker answers")

"""``engpass reminders``: the reminder e-mails by hand."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from engpass.db import db, utcnow
from engpass.organizations.models import Organization
from engpass.reminders.mailing import send_round


@click.group("reminders", help="The reminder e-mails.")
def reminders_group() -> None:
    pass


@reminders_group.command("send-due")
@click.option("--org", "slug", default=None, help="Only the organization with this slug.")
@with_appcontext
def send_due_command(slug: str | None) -> None:
    """E-mail every open reminder not sent yet, now, whatever the organizations' local hour.

    What the scheduler does each morning, for one organization or all of them; the send log keeps
    every reminder to one mail however often this runs.
    """
    session = db.factory()
    try:
        query = select(Organization.id).order_by(Organization.id)
        if slug is not None:
            query = query.where(Organization.slug == slug)
        org_ids = list(session.scalars(query))
        if slug is not None and not org_ids:
            raise click.ClickException(f"no organization with the slug {slug!r}")
        result = send_round(session, org_ids, utcnow(), current_app.extensions["engpass.settings"])
    finally:
        session.close()
    click.echo(f"organizations={len(org_ids)} sent={result.sent} failed={len(result.failed)}")
    if result.failed:
        raise click.ClickException(f"failed for the organizations with ids {result.failed}; see the log")

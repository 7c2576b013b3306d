"""``engpass tokens``: personal access tokens from the shell (e.g. for a server's integration)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from engpass import tenancy
from engpass.accounts import service as accounts
from engpass.cli.options import one_line
from engpass.consulting.service import seat_for
from engpass.db import db
from engpass.organizations.models import Organization
from engpass.tokens import service as tokens
from engpass.tokens.service import NAME_MAX


@click.group("tokens", help="Personal access tokens for the API.")
def tokens_group() -> None:
    pass


@tokens_group.command("create")
@click.option("--org", "slug", required=True, help="The organization's slug.")
@click.option("--email", required=True, help="The user the token acts for, with their role there.")
@click.option("--name", default="CLI", show_default=True, callback=one_line, help="Shown in the user's token list.")
@click.option("--expires-in-days", type=click.IntRange(min=1, max=3650), default=None, help="Default: no expiry.")
@with_appcontext
def create_token(slug: str, email: str, name: str, expires_in_days: int | None) -> None:
    """Create a token and print it — only the token, so it can be piped into a secret store."""
    if not name.strip() or len(name.strip()) > NAME_MAX:
        raise click.BadParameter(f"1 to {NAME_MAX} characters", param_hint="--name")
    with db.transaction() as session:
        user = accounts.find_user(session, email)
        org = session.scalars(select(Organization).where(Organization.slug == slug)).first()
        # One answer for an unknown user, an unknown organization and no seat: nothing to tell apart.
        if user is None or org is None or seat_for(session, slug, user.id) is None:
            raise click.ClickException(f"{email} has no seat in an organization {slug!r}")
        with tenancy.tenant_context(session, org.id):
            _row, token = tokens.create_token(session, user.id, name, tokens.expiry_for(expires_in_days), None)
            # Inside the organization: the audit event is flushed here, under its row-level security.
            session.commit()
    click.echo(token)

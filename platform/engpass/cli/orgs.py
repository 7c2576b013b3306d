"""``engpass orgs`` and ``engpass users``: administration from the shell."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from engpass.accounts import service as accounts
from engpass.db import db
from engpass.organizations.models import OrgKind
from engpass.organizations.service import create_organization


@click.group("orgs", help="Organizations.")
def orgs_group() -> None:
    pass


@orgs_group.command("create")
@click.option("--name", required=True)
@click.option("--owner-email", required=True)
@click.option("--password", help="Needed when the owner has no account yet.")
@click.option("--owner-name", default=None)
@click.option("--kind", type=click.Choice([k.value for k in OrgKind]), default=OrgKind.company.value)
@with_appcontext
def create_org(name: str, owner_email: str, password: str | None, owner_name: str | None, kind: str) -> None:
    """Create an organization with its owner; prints the slug."""
    with db.transaction() as session:
        owner = accounts.find_user(session, owner_email)
        if owner is None:
            if not password:
                raise click.UsageError("the owner has no account yet: give --password")
            owner = accounts.create_user(session, owner_email, owner_name or owner_email.split("@")[0], password)
        org = create_organization(session, name, owner, kind=OrgKind(kind))
        slug = org.slug
    click.echo(slug)


@click.group("users", help="User accounts.")
def users_group() -> None:
    pass


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--name", default=None)
@click.option("--locale", type=click.Choice(["de", "en"]), default="de")
@with_appcontext
def create_user(email: str, password: str, name: str | None, locale: str) -> None:
    """Create a user account without an organization."""
    try:
        with db.transaction() as session:
            user = accounts.create_user(session, email, name or email.split("@")[0], password, locale=locale)
            user_email = user.email
    except accounts.EmailTaken as exc:
        raise click.ClickException(f"an account for {email} exists already") from exc
    click.echo(user_email)

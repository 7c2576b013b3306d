"""``engpass orgs`` and ``engpass users``: administration from the shell.

Deleting and exporting serve the data-protection officer's requests (docs/privacy.md): the same
domain functions as the pages, confirmed by typing the slug or address again.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from engpass.accounts import service as accounts
from engpass.cli.options import one_line
from engpass.db import db
from engpass.organizations.models import Organization, OrgKind
from engpass.organizations.service import create_organization
from engpass.privacy import account, export, organization


@click.group("orgs", help="Organizations.")
def orgs_group() -> None:
    pass


@orgs_group.command("create")
@click.option("--name", required=True, callback=one_line)
@click.option("--owner-email", required=True)
@click.option("--password", help="Needed when the owner has no account yet.")
@click.option("--owner-name", default=None, callback=one_line)
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
@click.option("--name", default=None, callback=one_line)
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


@orgs_group.command("delete")
@click.argument("slug")
@click.option("--confirm", "confirmation", prompt="Type the slug again to confirm", help="The slug again.")
@with_appcontext
def delete_org(slug: str, confirmation: str) -> None:
    """Delete an organization with all its data; its people keep their accounts. Prints the rows removed."""
    if confirmation.strip() != slug:
        raise click.ClickException("the confirmation does not match the slug: nothing was deleted")
    with db.transaction() as session:
        org = session.scalars(select(Organization).where(Organization.slug == slug)).first()
        if org is None:
            raise click.ClickException(f"no organization with the slug {slug!r}")
        record = organization.delete_organization(session, org, actor_id=None)
        rows = dict(record.rows)
    click.echo(" ".join(f"{table}={count}" for table, count in rows.items()))


@users_group.command("delete")
@click.argument("email")
@click.option("--confirm", "confirmation", prompt="Type the address again to confirm", help="The address again.")
@with_appcontext
def delete_user(email: str, confirmation: str) -> None:
    """Delete a user account; refused while it is the only owner of an organization."""
    if confirmation.strip().lower() != email.strip().lower():
        raise click.ClickException("the confirmation does not match the address: nothing was deleted")
    with db.transaction() as session:
        user = accounts.find_user(session, email)
        if user is None:
            raise click.ClickException(f"no account for {email}")
        try:
            record = account.delete_account(session, user)
        except account.SoleOwner as exc:
            raise click.ClickException(
                f"{email} is the only owner of: {exc}. Transfer ownership or delete the organization first."
            ) from exc
        rows = dict(record.rows)
    click.echo(" ".join(f"{table}={count}" for table, count in rows.items()))


@users_group.command("export")
@click.argument("email")
@with_appcontext
def export_user(email: str) -> None:
    """Print everything about one user as JSON (what they download from their account settings)."""
    with db.transaction() as session:
        user = accounts.find_user(session, email)
        if user is None:
            raise click.ClickException(f"no account for {email}")
        data = export.export_user_data(session, user)
    click.echo(export.to_json(data).decode())

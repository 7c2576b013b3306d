"""``engpass demo``: demo organizations and logins, safe to run again."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext

from engpass.db import db
from engpass.demo.data import DEMO_PASSWORD, load_demo
from engpass.demo.scale import load_scale
from engpass.demo.scale_roster import org_name, owner_email
from engpass.demo.sso import connect_provider


@click.command("demo", help="Load the demo organizations and users (idempotent).")
@click.option(
    "--scale",
    type=click.IntRange(min=0),
    default=None,
    help="Instead of the demo companies, generate N benchmark organizations with long histories.",
)
@click.option("--cycles", type=click.IntRange(min=1), default=20, show_default=True, help="Cycles per organization.")
@click.option(
    "--measurements",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Measurements per measured cycle.",
)
@click.option(
    "--members",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="People besides the owner in each new organization (admins, members, viewers).",
)
@with_appcontext
def demo_command(scale: int | None, cycles: int, measurements: int, members: int) -> None:
    if scale is not None:
        _scale(scale, cycles, measurements, members)
        return
    with db.transaction() as session:
        logins = load_demo(session)
        connect_provider(session, current_app.extensions["engpass.settings"].secret_key)
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for email, description in logins:
        click.echo(f"  {email:<28} {description}")


def _scale(count: int, cycles: int, measurements: int, members: int) -> None:
    started = time.perf_counter()

    def progress(message: str) -> None:
        click.echo(f"  {message} ({time.perf_counter() - started:.1f} s)")

    with db.transaction() as session:
        result = load_scale(
            session,
            count,
            cycles=cycles,
            measurements=measurements,
            members=members,
            password=DEMO_PASSWORD,
            progress=progress,
        )
    elapsed = time.perf_counter() - started
    click.echo(f"Scale demo: {result.created} organizations created, {result.skipped} already there ({elapsed:.1f} s).")
    if count:
        click.echo(
            f"Logins: {owner_email(1)} … {owner_email(count)} (password {DEMO_PASSWORD}), "
            f"e.g. {org_name(1)}. Trends are not computed: the workers do that."
        )

"""The ``engpass`` console script: Flask's CLI with the platform's commands."""

from __future__ import annotations

from flask.cli import FlaskGroup

from engpass.app import create_app
from engpass.cli.db import db_group
from engpass.cli.demo import demo_command
from engpass.cli.digest import digest_group
from engpass.cli.orgs import orgs_group, users_group
from engpass.cli.outbox import outbox_group
from engpass.cli.reminders import reminders_group
from engpass.cli.tokens import tokens_group
from engpass.cli.trends import trends_group


def _build() -> FlaskGroup:
    group = FlaskGroup(create_app=lambda: create_app(), help="Engpass platform commands.")
    for command in (
        db_group,
        demo_command,
        digest_group,
        orgs_group,
        users_group,
        outbox_group,
        reminders_group,
        tokens_group,
        trends_group,
    ):
        group.add_command(command)
    return group


cli = _build()


def main() -> None:
    cli.main(prog_name="engpass")

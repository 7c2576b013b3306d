"""What the commands' options share."""

from __future__ import annotations

import click

from engpass import single_line


def one_line(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Click callback for names: one line, as in the forms (engpass.single_line)."""
    if value is not None and single_line.has_unwanted(value):
        raise click.BadParameter("one line without control characters, please")
    return value

"""The status quo's process steps as posted: rows added or moved before anything is saved."""

from __future__ import annotations

import re
from typing import Any

from werkzeug.datastructures import MultiDict

from engpass.cycles.forms import BLANK_STEP_ROWS, STEP_ROWS_MAX

STEP_KEY = re.compile(r"steps-([0-9]{1,4})-(name|role|minutes|remove)")


def step_rows(formdata: Any) -> list[dict[str, str]]:
    """The process rows as posted, in order; keys that are no row field are dropped."""
    rows: dict[int, dict[str, str]] = {}
    for key in formdata:
        match = STEP_KEY.fullmatch(key)
        if match:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = formdata.get(key, "")
    return [rows[index] for index in sorted(rows)][:STEP_ROWS_MAX]


def with_rows(formdata: Any, rows: list[dict[str, str]]) -> MultiDict[str, str]:
    data: MultiDict[str, str] = MultiDict(
        [(key, value) for key, value in formdata.items(multi=True) if not key.startswith("steps-")]
    )
    for index, row in enumerate(rows):
        for name, value in row.items():
            data.add(f"steps-{index}-{name}", value)
    return data


def row_action(action: str, rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Add rows or move one up or down: the form is shown again, nothing is saved yet."""
    if action == "add":
        room = STEP_ROWS_MAX - len(rows)
        return rows + [{"name": "", "role": "", "minutes": ""} for _ in range(min(BLANK_STEP_ROWS, room))]
    match = re.fullmatch(r"(up|down)-([0-9]{1,4})", action)
    if match:
        index = int(match.group(2))
        other = index - 1 if match.group(1) == "up" else index + 1
        if 0 <= index < len(rows) and 0 <= other < len(rows):
            rows[index], rows[other] = rows[other], rows[index]
    return rows

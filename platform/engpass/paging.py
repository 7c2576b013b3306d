"""Pages of a long list: the page number a query string's value names, and one page of rows with its neighbours.

Every list page (a cycle's measurements, the to-do list, the portfolio) shows a bounded number of rows
and links to the pages before and after it; ``templates/_pager.html`` draws those links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

Row = TypeVar("Row")


@dataclass(frozen=True)
class Page(Generic[Row]):
    """One page of a list: page 1 holds its first ``size`` rows."""

    rows: list[Row]
    number: int
    pages: int
    total: int
    size: int

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None

    @property
    def first_shown(self) -> int:
        return (self.number - 1) * self.size + 1 if self.rows else 0

    @property
    def last_shown(self) -> int:
        return (self.number - 1) * self.size + len(self.rows)


def page_count(total: int, size: int) -> int:
    """At least one page: an empty list still has its (empty) first page."""
    return max(1, -(-total // size))


def clamped(number: int, total: int, size: int) -> int:
    """A number past the last page is the last page, so a link kept from before a deletion still lands."""
    return min(max(1, number), page_count(total, size))


def page_number(raw: str | None) -> int | None:
    """A list's page from the query string: absent is the first; None for anything but a page number."""
    if raw is None:
        return 1
    if not (raw.isascii() and raw.isdigit() and len(raw) < 7) or int(raw) < 1:
        return None
    return int(raw)


def page_of(rows: Sequence[Row], number: int, size: int) -> Page[Row]:
    """Page ``number`` (from 1, clamped) of rows already in memory, in their order."""
    number = clamped(number, len(rows), size)
    start = (number - 1) * size
    return Page(list(rows[start : start + size]), number, page_count(len(rows), size), len(rows), size)

"""The portfolio: every client of a consultancy in one table, from precomputed documents, in one query.

Each client's row comes from the ``portfolio`` document its recompute wrote on its ``TrendState``
(``engpass.trends.portfolio``). That table is tenant-owned, and the consultancy is the tenant in context
here, so the statement reads it as a plain table (no ORM entity the tenancy filter would scope to the
consultancy) and names the clients through the consultancy's active accesses; on PostgreSQL the
``consultant_read`` policy lets exactly those rows through.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass.consulting.models import ClientAccess
from engpass.organizations.models import Organization
from engpass.trends.models import TrendState
from engpass.trends.portfolio import Entry

_states = TrendState.__table__


def entries(session: Session, consultancy_id: int, today: date) -> list[Entry]:
    """Every client with active access, by name; one query whatever their number."""
    stmt = (
        select(
            Organization.id,
            Organization.name,
            Organization.slug,
            Organization.currency,
            ClientAccess.level,
            _states.c.id,
            _states.c.portfolio,
        )
        .select_from(ClientAccess)
        .join(Organization, Organization.id == ClientAccess.client_id)
        .outerjoin(_states, _states.c.organization_id == ClientAccess.client_id)
        .where(ClientAccess.consultancy_id == consultancy_id, ClientAccess.revoked_at.is_(None))
        .order_by(Organization.name, Organization.id)
    )
    return [
        Entry.build(org_id, name, slug, currency, str(level), doc, today, has_state=state_id is not None)
        for org_id, name, slug, currency, level, state_id, doc in session.execute(stmt)
    ]


SORTS: dict[str, Callable[[Entry], Any]] = {
    "name": lambda e: e.name.casefold(),
    "level": lambda e: (e.level is None, e.level or 0),
    "trend": lambda e: e.trend,
    "stage": lambda e: (e.stage is None, STAGE_RANK.get(e.stage or "", 0)),
    "overdue": lambda e: (e.overdue_prototypes, e.overdue),
    # Clients whose count is not written yet sort after those with one, most first.
    "warnings": lambda e: (e.warnings is not None, e.warnings or 0),
    "saved": lambda e: e.euros_this_year,
    # Clients without an accuracy yet sort after those with one, highest first.
    "forecast": lambda e: (e.forecast_accuracy is not None, e.forecast_accuracy or 0),
    "activity": lambda e: e.last_activity or date.min,
}
# Descending first where the interesting end is the high one.
DEFAULT_DESC = {"level", "trend", "overdue", "warnings", "saved", "forecast", "activity"}
STAGE_RANK = {s: i for i, s in enumerate(("bottleneck", "baseline", "solution", "prototype", "result", "decided"))}


@dataclass(frozen=True)
class View:
    """Sort and filters as read from the query string; anything unknown falls back to the default."""

    sort: str = "name"
    desc: bool = False
    q: str = ""
    stage: str = ""
    level: int | None = None
    overdue: bool = False

    @classmethod
    def from_args(cls, args: Any) -> View:
        sort = args.get("sort", "name")
        sort = sort if sort in SORTS else "name"
        direction = args.get("dir", "")
        desc = direction == "desc" if direction in ("asc", "desc") else sort in DEFAULT_DESC
        stage = args.get("stage", "")
        level = args.get("level", "")
        return cls(
            sort=sort,
            desc=desc,
            q=args.get("q", "").strip()[:100],
            stage=stage if stage in STAGE_RANK or stage == "none" else "",
            level=int(level) if level in ("1", "2", "3", "4", "5") else None,
            overdue=args.get("overdue") == "1",
        )

    def apply(self, rows: list[Entry]) -> list[Entry]:
        if self.q:
            needle = self.q.casefold()
            rows = [e for e in rows if needle in e.name.casefold()]
        if self.stage:
            rows = [e for e in rows if (e.stage or "none") == self.stage]
        if self.level is not None:
            rows = [e for e in rows if e.level == self.level]
        if self.overdue:
            rows = [e for e in rows if e.overdue]
        # Stable: the name order below stays within equal keys.
        rows = sorted(rows, key=SORTS["name"])
        return sorted(rows, key=SORTS[self.sort], reverse=self.desc)

    def args(self, **changes: Any) -> dict[str, Any]:
        """Query parameters of this view with ``changes``, for links; defaults left out."""
        values = {
            "sort": self.sort,
            "dir": "desc" if self.desc else "asc",
            "q": self.q,
            "stage": self.stage,
            "level": self.level,
            "overdue": "1" if self.overdue else None,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value not in (None, "")}

    def sort_args(self, column: str) -> dict[str, Any]:
        """The link of a column head: sort by it, or flip the direction when it is already the sort."""
        if column == self.sort:
            return self.args(dir="asc" if self.desc else "desc")
        return self.args(sort=column, dir="desc" if column in DEFAULT_DESC else "asc")


# Every value each query parameter can take when the page is sent compressed; the name filter only empty.
FIXED_VALUES: dict[str, frozenset[str]] = {
    "sort": frozenset(SORTS),
    "dir": frozenset({"asc", "desc"}),
    "q": frozenset({""}),
    "stage": frozenset({*STAGE_RANK, "none", ""}),
    "level": frozenset({"1", "2", "3", "4", "5", ""}),
    "overdue": frozenset({"1", ""}),
    # The page links' numbers, written as the pager writes them; a longer or padded number goes out plain.
    "page": frozenset(str(number) for number in range(1, 1000)),
}
_PLAIN_QUERY = re.compile(rb"[a-z0-9_=&]*")


def reflects_nothing(query_string: bytes) -> bool:
    """Whether the portfolio at this query string reflects nothing of the address that a third party could
    choose: every parameter one of the portfolio's, once, with one of its fixed values, no name filter.

    The page shows the name filter in its field and the whole address in the language form (``next``), next
    to the CSRF token. Compressed, a page that reflected a guess would be the shorter the more of the token
    the guess matched (BREACH), so only pages with nothing but fixed values there are sent compressed."""
    if not _PLAIN_QUERY.fullmatch(query_string):
        return False
    pairs = parse_qsl(query_string.decode("ascii"), keep_blank_values=True)
    names = [name for name, _ in pairs]
    return len(names) == len(set(names)) and all(value in FIXED_VALUES.get(name, ()) for name, value in pairs)

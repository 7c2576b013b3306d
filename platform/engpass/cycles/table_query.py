"""The cycle table's filters and sort, read from a URL's arguments and applied to any statement over cycles.

One object for the table page and its exports (``engpass.exports``): the rows a user exports are
exactly the rows the same filters show, in the same order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, or_

from engpass.cycles.models import STAGE_ORDER, Category, Cycle, Stage

SEARCH_MAX = 100

SORTS = {
    "created": Cycle.created_at,
    "updated": Cycle.updated_at,
    "title": func.lower(Cycle.title),
    "stage": case({stage: index for index, stage in enumerate(STAGE_ORDER)}, value=Cycle.stage),
}


@dataclass
class TableQuery:
    stage: Stage | None = None
    category: Category | None = None
    owner: int | None = None
    status: str = ""
    q: str = ""
    sort: str = "updated"
    direction: str = "desc"
    page: int = 1

    @classmethod
    def from_args(cls, args: Any) -> TableQuery:
        """Unknown values are ignored, never an error: a hand-edited URL still shows the table."""
        query = cls()
        if args.get("stage") in Stage.__members__:
            query.stage = Stage(args["stage"])
        if args.get("category") in Category.__members__:
            query.category = Category(args["category"])
        owner = args.get("owner", "")
        if owner.isascii() and owner.isdigit() and len(owner) < 10:
            query.owner = int(owner)
        if args.get("status") in ("open", "decided"):
            query.status = args["status"]
        query.q = " ".join(args.get("q", "").split())[:SEARCH_MAX]
        if args.get("sort") in SORTS:
            query.sort = args["sort"]
        if args.get("dir") in ("asc", "desc"):
            query.direction = args["dir"]
        page = args.get("page", "")
        if page.isascii() and page.isdigit() and len(page) < 6:
            query.page = max(1, int(page))
        return query

    def args(self, **changes: Any) -> dict[str, Any]:
        values = {
            "stage": self.stage.value if self.stage else None,
            "category": self.category.value if self.category else None,
            "owner": self.owner,
            "status": self.status or None,
            "q": self.q or None,
            "sort": self.sort,
            "dir": self.direction,
            "page": self.page if self.page > 1 else None,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value not in (None, "")}

    def sort_args(self, key: str) -> dict[str, Any]:
        direction = "asc" if key == "title" else "desc"
        if key == self.sort:
            direction = "asc" if self.direction == "desc" else "desc"
        return self.args(sort=key, dir=direction, page=None)

    @property
    def filtered(self) -> bool:
        return any((self.stage, self.category, self.owner, self.status, self.q))

    def filter(self, stmt: Select[Any]) -> Select[Any]:
        """``stmt`` (any statement over ``Cycle``) narrowed to the cycles the filters let through."""
        if self.stage:
            stmt = stmt.where(Cycle.stage == self.stage)
        if self.category:
            stmt = stmt.where(Cycle.category == self.category)
        if self.owner:
            stmt = stmt.where(Cycle.owner_id == self.owner)
        if self.status == "open":
            stmt = stmt.where(Cycle.stage != Stage.decided)
        elif self.status == "decided":
            stmt = stmt.where(Cycle.stage == Stage.decided)
        if self.q:
            pattern = "%" + re.sub(r"([\\%_])", r"\\\1", self.q.lower()) + "%"
            stmt = stmt.where(
                or_(
                    func.lower(Cycle.title).like(pattern, escape="\\"),
                    func.lower(Cycle.why).like(pattern, escape="\\"),
                    func.lower(Cycle.solution_what).like(pattern, escape="\\"),
                )
            )
        return stmt

    def order(self, stmt: Select[Any]) -> Select[Any]:
        """``stmt`` in the table's order; the id breaks ties, so the order is total and the same every time."""
        column = SORTS[self.sort]
        return stmt.order_by(column.asc() if self.direction == "asc" else column.desc(), Cycle.id.desc())

"""Cycle pages: the board and table, creating a cycle, the cycle page, the method's section forms, the
measurements, the status quo's indirect cost items and the organization's templates — one blueprint,
``cycles``, whose routes each module adds."""

from engpass.cycles.views import (
    board,
    creating,
    cycle_page,
    indirect_costs,
    measurements,
    sections,
    template_pages,
)
from engpass.cycles.views.common import bp

__all__ = ["bp", "board", "creating", "cycle_page", "indirect_costs", "measurements", "sections", "template_pages"]

"""Entering an organization: the request's organization, seat, consultancy and tenant, set in one place.

``g.org`` is the organization, ``g.membership`` the seat (a ``Membership``, or a consultant's
``ConsultantSeat`` with the same ``role`` and ``organization``, so the permission matrix answers alike),
``g.consulting`` the consultancy a consultant came through (else None). Every query and write after this
is the organization's (``tenancy.activate``), and whatever a consultant changes is recorded in the audit
log as done through their consultancy.
"""

from __future__ import annotations

from flask import g

from engpass import tenancy
from engpass.audit.service import acting_via
from engpass.consulting.service import ConsultantSeat
from engpass.db import db
from engpass.organizations.models import Membership

Seat = Membership | ConsultantSeat


def enter(seat: Seat) -> None:
    """Make ``seat``'s organization the request's, as the user sitting there."""
    g.org = seat.organization
    g.membership = seat
    g.consulting = seat.consultancy if isinstance(seat, ConsultantSeat) else None
    # A way in that had to look inside the organization already (the API's token) is there: no second
    # setting of the tenant on the open transaction.
    if tenancy.current_org_id() != seat.organization_id:
        tenancy.activate(db.session, seat.organization_id)
    if g.consulting is not None:
        acting_via(db.session, seat.organization_id, g.consulting.id)

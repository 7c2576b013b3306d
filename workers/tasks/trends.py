"""Recomputing trend snapshots: after changes (coalesced), nightly for the organizations due, and in full
when an operator asks for it (``engpass trends rebuild``)."""

from __future__ import annotations

from celery import current_app, shared_task
from sqlalchemy import select

from engpass import task_names, tenancy
from engpass.db import db
from engpass.organizations.models import Organization
from engpass.trends.service import due_organizations, is_current, recompute

# Organizations per message of the fan-out: small enough to spread over workers,
# large enough that a thousand organizations are a handful of messages.
FAN_OUT_BATCH = 100


@shared_task(name=task_names.RECOMPUTE_TRENDS, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def recompute_trends(org_id: int, force: bool = False) -> int:
    """Skip when an earlier run already covered the latest change: a burst of edits is one recompute.

    Rewrites the weeks the pending changes can affect; ``force`` rewrites every week.
    """
    session = db.session()
    if not force and is_current(session):
        return 0
    weeks = recompute(session, full=force)
    session.commit()
    return weeks


@shared_task(name=task_names.RECOMPUTE_ALL_TRENDS)
def recompute_all_trends(full: bool = False) -> int:
    """Nightly: the organizations due (a change pending, a new week, a radar threshold; see
    ``trends.service.next_due``), each only from the weeks it needs. ``full``: every organization, every
    week — the rebuild after a release that computes the figures differently or data changed by hand."""
    if full:
        org_ids = list(db.session.scalars(select(Organization.id).order_by(Organization.id)))
    else:
        org_ids = due_organizations(db.session())
    for start in range(0, len(org_ids), FAN_OUT_BATCH):
        current_app.send_task(
            task_names.RECOMPUTE_TRENDS_BATCH,
            kwargs={"org_ids": org_ids[start : start + FAN_OUT_BATCH], "full": full},
        )
    return len(org_ids)


@shared_task(name=task_names.RECOMPUTE_TRENDS_BATCH, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def recompute_trends_batch(org_ids: list[int], full: bool = False) -> int:
    """Each organization in its own tenant context and transaction; a retry redoes the batch harmlessly."""
    session = db.session()
    for org_id in org_ids:
        with tenancy.tenant_context(session, org_id):
            recompute(session, full=full)
            session.commit()
        session.expunge_all()
    return len(org_ids)

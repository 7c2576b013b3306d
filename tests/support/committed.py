"""Rows committed on connections of their own, for other threads and processes to see, and deleted again."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from sqlalchemy import text
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.accounts.models import User
from engpass.db import make_engine
from engpass.organizations.service import create_organization
from tests.support.cycles import named_cycle


def delete_committed(databases: dict[str, str], org_id: int, user_id: int) -> None:
    """Deletes, as the owner, an organization and a user a test committed for other processes to see."""
    owner = make_engine(databases["owner"])
    with owner.begin() as conn:
        # Memberships, cycles, audit events and outbox messages go with the organization, the send log with the user.
        conn.execute(text("DELETE FROM organizations WHERE id = :id"), {"id": org_id})
        conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": user_id})
    owner.dispose()


@dataclass(frozen=True)
class CommittedOrg:
    org_id: int
    user_id: int
    name: str
    slug: str
    cycle_ids: tuple[int, ...]


@contextmanager
def committed_org(
    databases: dict[str, str], live_engine: Any, label: str, owner_name: str, named_days_ago: dict[str, int]
) -> Iterator[CommittedOrg]:
    """An organization whose owner ``owner_name`` has one cycle per ``title: days`` of ``named_days_ago``,
    committed on a connection of its own so that other threads and processes see it; deleted afterwards."""
    tag = uuid4().hex[:8]
    with Session(live_engine, expire_on_commit=False) as s:
        user = User(email=f"{label}-{tag}@example.com", name=owner_name, password_hash="x")
        s.add(user)
        s.flush()
        org = create_organization(s, f"{label.capitalize()} {tag}", user)
        s.commit()
        with tenancy.tenant_context(s, org.id):
            cycle_list = [named_cycle(s, user.id, title, named_days_ago=days) for title, days in named_days_ago.items()]
            s.commit()
        data = CommittedOrg(org.id, user.id, org.name, org.slug, tuple(c.id for c in cycle_list))
    try:
        yield data
    finally:
        delete_committed(databases, data.org_id, data.user_id)

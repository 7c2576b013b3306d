"""Deleting an organization: afterwards no row of any table refers to it — by ``organization_id``, by any
foreign key, or by the keys and payloads of the send log and the outbox — while every row of the other
organizations is still there. Walks the whole metadata, so a table added later is walked too."""

from collections import Counter

import pytest
from sqlalchemy import ColumnElement, Table, func, or_, select, tuple_

from engpass import tenancy
from engpass.accounts import welcome
from engpass.accounts.models import User
from engpass.db import Base
from engpass.digest.sending import kind_for
from engpass.exports import mail as export_mail
from engpass.organizations.models import Organization, OrgKind
from engpass.page_cache import ORG, USER, page_cache
from engpass.privacy.models import DeletionRecord, Subject
from engpass.privacy.organization import delete_organization
from engpass.privacy.schema import owned_tables
from engpass.tenancy import TenantScoped
from engpass.tokens import mail as token_mail
from tests.support.accounts import PASSWORD
from tests.support.privacy import rich_organization

ORGANIZATIONS = Base.metadata.tables["organizations"]
TENANT_TABLES = {m.local_table for m in Base.registry.mappers if issubclass(m.class_, TenantScoped)}


def _org_columns(table: Table) -> list[tuple[object, bool]]:
    """Columns that name an organization, and whether the row goes with it (False: the key is nulled)."""
    if table is ORGANIZATIONS:
        return [(table.c.id, True)]
    found = []
    for column in table.columns:
        keys = [fk for fk in column.foreign_keys if fk.column.table is ORGANIZATIONS]
        if keys:
            found.append((column, all((fk.ondelete or "").upper() != "SET NULL" for fk in keys)))
        elif column.name == "organization_id":
            found.append((column, True))
    return found


def _by_key(table: Table, org_id: int, reminder_keys: list[tuple[int, str, str]]) -> list[ColumnElement[bool]]:
    """How the send log and the outbox name an organization without a foreign key."""
    c = table.c
    if table.name == "send_log":
        return [
            (c.kind == welcome.KIND) & (c.period == str(org_id)),
            c.kind == kind_for(org_id),
            c.kind.in_((export_mail.KIND, token_mail.KIND)) & c.period.startswith(f"{org_id}:"),
            tuple_(c.user_id, c.kind, c.period).in_(reminder_keys),
        ]
    if table.name == "outbox_messages":
        return [c.kwargs["org_id"].as_integer() == org_id]
    return []


def _count(session, table: Table, where: ColumnElement[bool] | None, contexts: list[int]) -> int:
    """Rows of ``table`` matching ``where``; a tenant table is counted organization by organization, each in its
    own context, as row-level security shows it (on SQLite the explicit organization keeps them apart)."""
    statement = select(func.count()).select_from(table)
    if where is not None:
        statement = statement.where(where)
    if table not in TENANT_TABLES:
        return session.scalar(statement)
    total = 0
    for org_id in contexts:
        with tenancy.tenant_context(session, org_id):
            total += session.scalar(statement.where(table.c.organization_id == org_id))
    return total


def census(session, org_id: int, reminder_keys: list[tuple[int, str, str]], contexts: list[int]) -> dict[str, Counter]:
    """Per table: all rows, the rows that go with the organization, and the rows that merely name it."""
    result: dict[str, Counter] = {}
    for table in Base.metadata.sorted_tables:
        columns = _org_columns(table)
        owning = [column == org_id for column, owns in columns if owns] + _by_key(table, org_id, reminder_keys)
        linking = [column == org_id for column, owns in columns if not owns]
        result[table.name] = Counter(
            total=_count(session, table, None, contexts),
            owned=_count(session, table, or_(*owning), contexts) if owning else 0,
            linked=_count(session, table, or_(*linking), contexts) if linking else 0,
        )
    return result


@pytest.mark.parametrize("kind", list(OrgKind))
def test_nothing_of_a_deleted_organization_remains_in_any_table(session, make_user, kind):
    shared = make_user(name="In beiden")
    doomed = rich_organization(session, make_user, "Weg GmbH", kind=kind, shared=shared)
    kept = rich_organization(session, make_user, "Bleibt GmbH", kind=kind, shared=shared)
    contexts = list(session.scalars(select(Organization.id)))
    doomed_id, kept_id = doomed.org.id, kept.org.id

    before = census(session, doomed_id, doomed.reminder_keys, contexts)
    kept_before = census(session, kept_id, kept.reminder_keys, contexts)
    # The world is as rich as promised: every kind of row the organization can own is there to be deleted.
    for table in ("cycles", "process_steps", "measurements", "stage_changes", "cycle_templates", "trend_snapshots"):
        assert before[table]["owned"] > 0, table
    for table in ("trend_states", "audit_events", "invitations", "memberships", "client_accesses", "access_requests"):
        assert before[table]["owned"] > 0, table
    assert before["send_log"]["owned"] == 9
    assert before["outbox_messages"]["owned"] >= 2
    assert before["consultancy_invitation_codes"]["owned"] == (kind == OrgKind.consultancy)
    if kind == OrgKind.consultancy:
        assert before["audit_events"]["linked"] == 1  # in the client's log: a consultant came through it

    record = delete_organization(session, doomed.org, actor_id=doomed.owner.id)
    session.commit()

    after = census(session, doomed_id, doomed.reminder_keys, contexts)
    for table, counts in after.items():
        assert counts["owned"] == 0 and counts["linked"] == 0, f"{table} still refers to the deleted organization"
    # Nothing else went: every table lost exactly the organization's rows, and the links became NULL.
    for table, counts in after.items():
        expected = before[table]["total"] - before[table]["owned"] + (table == "deletion_records")
        assert counts["total"] == expected, table
    kept_after = census(session, kept_id, kept.reminder_keys, contexts)
    assert {t: (c["owned"], c["linked"]) for t, c in kept_after.items()} == {
        t: (c["owned"], c["linked"]) for t, c in kept_before.items()
    }

    # The people stay: their accounts belong to them, not to the organization.
    assert session.get(User, doomed.member.id) is not None and session.get(User, shared.id) is not None
    stored = session.get(DeletionRecord, record.id)
    assert (stored.subject, stored.subject_id, stored.requested_by_id) == (
        Subject.organization,
        doomed_id,
        doomed.owner.id,
    )
    assert stored.rows["cycles"] == before["cycles"]["owned"] and stored.rows["send_log"] == 9


def test_a_half_done_deletion_leaves_everything_as_it_was(session, make_user, monkeypatch):
    """One transaction: a failure in the middle rolls back every delete before it."""
    doomed = rich_organization(session, make_user, "Fast Weg GmbH")
    contexts = list(session.scalars(select(Organization.id)))
    before = census(session, doomed.org.id, doomed.reminder_keys, contexts)

    import engpass.privacy.organization as deletion

    calls = {"n": 0}
    real = deletion._delete

    def failing(session, table, where):
        calls["n"] += 1
        if table.name == "memberships":
            raise RuntimeError("the database went away")
        return real(session, table, where)

    monkeypatch.setattr(deletion, "_delete", failing)
    with pytest.raises(RuntimeError):
        delete_organization(session, doomed.org, actor_id=None)
    session.rollback()
    assert calls["n"] > 3
    assert census(session, doomed.org.id, doomed.reminder_keys, contexts) == before


def test_every_key_to_organizations_and_users_says_what_happens_on_deletion():
    """A later table must declare whether its rows go with the organization or the person (CASCADE) or
    only lose the link (SET NULL): the deletions rely on it (docs/privacy.md)."""
    for target in ("organizations", "users"):
        for table in Base.metadata.sorted_tables:
            for constraint in table.foreign_key_constraints:
                if constraint.referred_table.name == target:
                    rule = (constraint.ondelete or "").upper()
                    assert rule in ("CASCADE", "SET NULL"), f"{table.name}.{constraint.column_keys}: ON DELETE {rule}"
                    if rule == "SET NULL":
                        assert all(column.nullable for column in constraint.columns), table.name


def test_the_schema_walk_finds_every_table_of_an_organization():
    owned = {entry.table.name for entry in owned_tables(Base.metadata)}
    tenant = {table.name for table in TENANT_TABLES}
    assert tenant <= owned
    assert {"memberships", "client_accesses", "access_requests", "consultancy_invitation_codes"} <= owned
    assert "outbox_messages" in owned
    assert not owned & {"users", "notification_preferences", "send_log", "deletion_records", "organizations"}


def test_a_later_table_is_found_by_its_keys_alone():
    """What the other rooms will add: a table keyed to the organization without a delete rule, one that only
    names a row of it, and one that merely links to it (SET NULL)."""
    from sqlalchemy import Column, ForeignKey, Integer, MetaData

    metadata = MetaData()
    Table("organizations", metadata, Column("id", Integer, primary_key=True))
    Table("users", metadata, Column("id", Integer, primary_key=True))
    Table("exports", metadata, Column("id", Integer, primary_key=True), Column("org", ForeignKey("organizations.id")))
    Table(
        "export_files",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("export_id", ForeignKey("exports.id", ondelete="CASCADE")),
    )
    Table(
        "tokens",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("user_id", ForeignKey("users.id", ondelete="CASCADE")),
        Column("last_org_id", ForeignKey("organizations.id", ondelete="SET NULL")),
    )
    owned = owned_tables(metadata)
    assert [entry.table.name for entry in owned] == ["exports", "export_files"]
    assert str(owned[1].where(7).compile(compile_kwargs={"literal_binds": True})) == (
        "export_files.export_id IN (SELECT exports.id \nFROM exports \nWHERE exports.org = 7)"
    )


def test_the_deleted_organizations_slug_answers_404_and_its_members_keep_their_accounts(
    client, session, make_user, login
):
    doomed = rich_organization(session, make_user, "Weg GmbH")
    slug = doomed.org.slug
    delete_organization(session, doomed.org, actor_id=None)
    session.commit()
    login(doomed.member)
    assert client.get(f"/o/{slug}/").status_code == 404
    # Their only organization is gone: they land on the page for people without one.
    client.post("/logout")
    response = client.post("/login", data={"email": doomed.member.email, "password": PASSWORD})
    assert response.location == "/welcome"


def test_deleting_replaces_the_page_cache_tokens_of_the_organization_and_its_people(session, make_user, redis_url, app):
    from uuid import uuid4

    page_cache.configure(redis_url, prefix=f"engpass-test:{uuid4().hex}:")
    try:
        doomed = rich_organization(session, make_user, "Weg GmbH")
        partner = doomed.other
        targets = [(ORG, doomed.org.id), (ORG, partner.id), (USER, doomed.owner.id), (USER, doomed.member.id)]
        before = page_cache.tokens_of(targets)
        delete_organization(session, doomed.org, actor_id=None)
        after_flush = page_cache.tokens_of(targets)
        session.commit()
        after_commit = page_cache.tokens_of(targets)
        assert all(a != b for a, b in zip(before, after_flush, strict=True))
        assert all(a != b for a, b in zip(after_flush, after_commit, strict=True))
    finally:
        page_cache.configure(None)


def test_work_already_handed_to_the_broker_finds_nothing_and_writes_nothing(app, celery, session, make_user):
    """The broker may still hold tasks for the organization (relayed before the deletion): they run into
    nothing and leave no row behind."""
    from engpass.outbox.models import OutboxMessage

    doomed = rich_organization(session, make_user, "Weg GmbH")
    contexts = list(session.scalars(select(Organization.id)))
    pending = [
        (m.task_name, dict(m.kwargs))
        for m in session.scalars(select(OutboxMessage).where(OutboxMessage.organization_id == doomed.org.id))
    ]
    delivered = [(name, kwargs) for name, kwargs in pending if name in celery.tasks]
    assert {name for name, _ in delivered} >= {"engpass.trends.recompute", "engpass.team.send_invitation"}
    doomed_id = doomed.org.id
    delete_organization(session, doomed.org, actor_id=None)
    session.commit()
    for name, kwargs in delivered:
        celery.tasks[name].apply(kwargs=kwargs, throw=True)
    after = census(session, doomed_id, doomed.reminder_keys, contexts)
    assert {table: counts["owned"] for table, counts in after.items() if counts["owned"]} == {}

"""The database half of tenant isolation: PostgreSQL row-level security beneath the ORM filter."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.db import make_engine

pytestmark = pytest.mark.postgres


@pytest.fixture
def committed_orgs(postgres):
    """Two organizations with one audit event each, committed by the owner role (RLS is forced on it too)."""
    owner = make_engine(postgres["owner"])
    ids = {}
    with owner.begin() as conn:
        for slug in ("rls-a", "rls-b"):
            org_id = conn.execute(
                text(
                    "INSERT INTO organizations (name, slug, kind, locale, timezone, currency, default_hourly_rate,"
                    " created_at) VALUES (:n, :s, 'company', 'de', 'Europe/Berlin', 'EUR', 65, now()) RETURNING id"
                ),
                {"n": slug.upper(), "s": slug},
            ).scalar_one()
            conn.execute(text("SELECT set_config('app.org_id', :v, true)"), {"v": str(org_id)})
            conn.execute(
                text(
                    "INSERT INTO audit_events (organization_id, action, details, created_at)"
                    " VALUES (:o, 'rls.seed', '{}', now())"
                ),
                {"o": org_id},
            )
            ids[slug] = org_id
    yield ids
    with owner.begin() as conn:
        conn.execute(text("DELETE FROM organizations WHERE slug IN ('rls-a', 'rls-b')"))
    owner.dispose()


def _seeds(conn):
    return conn.execute(text("SELECT organization_id FROM audit_events WHERE action = 'rls.seed'")).scalars().all()


def test_app_role_is_neither_owner_nor_superuser(postgres):
    engine = make_engine(postgres["app"])
    with engine.connect() as conn:
        row = conn.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
        owner = conn.execute(text("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_events'")).scalar_one()
        me = conn.execute(text("SELECT current_user")).scalar_one()
    engine.dispose()
    assert row == (False, False)
    assert owner != me


def test_raw_sql_without_context_sees_no_rows(postgres, committed_orgs):
    engine = make_engine(postgres["app"])
    with engine.connect() as conn:
        assert _seeds(conn) == []
    engine.dispose()


def test_raw_sql_with_a_context_sees_only_that_organization(postgres, committed_orgs):
    engine = make_engine(postgres["app"])
    with engine.begin() as conn:
        conn.execute(text("SELECT set_config('app.org_id', :v, true)"), {"v": str(committed_orgs["rls-a"])})
        assert _seeds(conn) == [committed_orgs["rls-a"]]
    engine.dispose()


def test_setting_is_transaction_local(postgres, committed_orgs):
    engine = make_engine(postgres["app"])
    with engine.connect() as conn:
        with conn.begin():
            conn.execute(text("SELECT set_config('app.org_id', :v, true)"), {"v": str(committed_orgs["rls-a"])})
        with conn.begin():
            assert _seeds(conn) == []
    engine.dispose()


def test_app_role_cannot_write_into_another_organization(postgres, committed_orgs):
    engine = make_engine(postgres["app"])
    with pytest.raises(ProgrammingError, match="row-level security"), engine.begin() as conn:
        conn.execute(text("SELECT set_config('app.org_id', :v, true)"), {"v": str(committed_orgs["rls-a"])})
        conn.execute(
            text(
                "INSERT INTO audit_events (organization_id, action, details, created_at) VALUES (:o, 'x', '{}', now())"
            ),
            {"o": committed_orgs["rls-b"]},
        )
    engine.dispose()


def test_session_applies_the_tenant_setting_to_raw_sql(postgres, committed_orgs):
    """The ORM session sets app.org_id at the start of each transaction, so even raw SQL through it is scoped."""
    engine = make_engine(postgres["app"])
    with Session(engine) as session, tenancy.tenant_context(session, committed_orgs["rls-b"]):
        rows = session.execute(text("SELECT organization_id FROM audit_events WHERE action = 'rls.seed'")).all()
    engine.dispose()
    assert [r[0] for r in rows] == [committed_orgs["rls-b"]]


def _insert_seed(session, org_id):
    session.execute(
        text("INSERT INTO audit_events (organization_id, action, details, created_at) VALUES (:o, 'x', '{}', now())"),
        {"o": org_id},
    )


def test_reading_several_admits_their_rows_to_raw_sql_and_writes_none(postgres, committed_orgs):
    """``tenancy.reading``'s policy: SELECT sees the named organizations only; UPDATE, DELETE and INSERT need one
    organization in context (``app.org_id``), so they change nothing."""
    a, b = committed_orgs["rls-a"], committed_orgs["rls-b"]
    engine = make_engine(postgres["app"])
    with Session(engine) as session:
        with tenancy.reading(session, [a]):
            assert _seeds(session) == [a]
            assert session.execute(text("UPDATE audit_events SET action = 'x' WHERE action = 'rls.seed'")).rowcount == 0
            assert session.execute(text("DELETE FROM audit_events WHERE action = 'rls.seed'")).rowcount == 0
        session.rollback()
        with tenancy.reading(session, [a, b]):
            assert sorted(_seeds(session)) == sorted([a, b])
            with pytest.raises(ProgrammingError, match="row-level security"):
                _insert_seed(session, a)
            session.rollback()
        with tenancy.reading(session, [a, b]), tenancy.tenant_context(session, b):
            # One organization inside: the other is out of reach again.
            assert _seeds(session) == [b]
        session.rollback()
        # Leaving the block inside the transaction clears the setting.
        with tenancy.reading(session, [a, b]):
            assert len(_seeds(session)) == 2
        assert _seeds(session) == []
    engine.dispose()


def test_every_tenant_table_has_the_batch_read_policy_and_nothing_wider(postgres):
    engine = make_engine(postgres["owner"])
    with engine.connect() as conn:
        forced = set(
            conn.execute(text("SELECT relname FROM pg_class WHERE relkind = 'r' AND relforcerowsecurity")).scalars()
        )
        rows = conn.execute(
            text("SELECT tablename, cmd, qual FROM pg_policies WHERE policyname = :p"), {"p": tenancy.BATCH_READ}
        ).all()
    engine.dispose()
    assert forced and {table for table, _cmd, _qual in rows} == forced
    assert {cmd for _table, cmd, _qual in rows} == {"SELECT"}
    assert all(tenancy.RLS_READ_SETTING in qual for _table, _cmd, qual in rows)


def test_the_policies_read_the_organization_setting_once_per_statement(postgres):
    """Each policy compares rows with a sub-select of the setting (evaluated once), never with the setting
    itself, which PostgreSQL would read and cast again for every row."""
    engine = make_engine(postgres["owner"])
    with engine.connect() as conn:
        forced = set(
            conn.execute(text("SELECT relname FROM pg_class WHERE relkind = 'r' AND relforcerowsecurity")).scalars()
        )
        tenant = conn.execute(
            text("SELECT tablename, qual, with_check FROM pg_policies WHERE policyname = :p"),
            {"p": tenancy.TENANT_ISOLATION},
        ).all()
        consultant = conn.execute(
            text("SELECT qual FROM pg_policies WHERE policyname = 'consultant_read' AND tablename = 'trend_states'")
        ).scalar_one()
    engine.dispose()
    assert forced and {table for table, _qual, _check in tenant} == forced
    for _table, qual, check in tenant:
        for expression in (qual, check):
            assert tenancy.RLS_SETTING in expression
            assert "( SELECT" in expression
    assert "( SELECT" in consultant and "trend_states.organization_id" not in consultant


def test_a_tenant_read_evaluates_the_setting_once_and_still_isolates(postgres, committed_orgs):
    engine = make_engine(postgres["app"])
    with engine.begin() as conn:
        conn.execute(text("SELECT set_config('app.org_id', :v, true)"), {"v": str(committed_orgs["rls-a"])})
        plan = "\n".join(conn.execute(text("EXPLAIN (COSTS OFF) SELECT action FROM audit_events")).scalars())
        assert "InitPlan" in plan
        assert conn.execute(text("SELECT DISTINCT organization_id FROM audit_events")).scalars().all() == [
            committed_orgs["rls-a"]
        ]
    engine.dispose()


@pytest.mark.parametrize("setting", ["app.org_id", "app.read_org_ids"])
def test_a_read_through_the_policies_alone_can_use_the_organization_index(postgres, committed_orgs, setting):
    """A statement that names no organization (raw SQL, a Core statement) is narrowed by the policies only: they
    must stay an index condition on ``organization_id``. A policy the planner cannot index (a hashed sub-plan)
    turned such a read into a scan of every organization's rows."""
    engine = make_engine(postgres["app"])
    with engine.begin() as conn:
        conn.execute(text("SELECT set_config(:s, :v, true)"), {"s": setting, "v": str(committed_orgs["rls-a"])})
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(conn.execute(text("EXPLAIN (COSTS OFF) SELECT count(*) FROM audit_events")).scalars())
        assert "Seq Scan" not in plan and "Index" in plan, plan
    engine.dispose()

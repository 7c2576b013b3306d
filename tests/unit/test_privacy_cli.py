"""The data-protection officer's requests from the shell: ``engpass orgs delete``, ``users delete``, ``export``."""

import json

import pytest
from sqlalchemy import select

from engpass.accounts.models import User
from engpass.cli import cli
from engpass.organizations.models import Organization, Role
from engpass.privacy.models import DeletionRecord


@pytest.fixture
def runner(app, monkeypatch):
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
    return app.test_cli_runner()


def test_an_organization_is_deleted_only_with_its_slug_typed_again(runner, session, make_user, make_org):
    owner = make_user()
    org = make_org("Auftrag GmbH", owner=owner)
    org_id, owner_id = org.id, owner.id
    refused = runner.invoke(cli, ["orgs", "delete", org.slug, "--confirm", "auftrag"])
    assert refused.exit_code != 0 and "nothing was deleted" in refused.output
    unknown = runner.invoke(cli, ["orgs", "delete", "gibt-es-nicht", "--confirm", "gibt-es-nicht"])
    assert unknown.exit_code != 0 and "no organization" in unknown.output
    session.expire_all()
    assert session.get(Organization, org_id) is not None
    done = runner.invoke(cli, ["orgs", "delete", org.slug], input=f"{org.slug}\n")
    assert done.exit_code == 0, done.output
    assert "memberships=1" in done.output and "organizations=1" in done.output
    session.expire_all()
    assert session.get(Organization, org_id) is None and session.get(User, owner_id) is not None
    record = session.scalars(select(DeletionRecord).where(DeletionRecord.subject_id == org_id)).one()
    assert record.requested_by_id is None


def test_a_user_is_exported_and_deleted_unless_sole_owner(runner, session, make_user, make_org):
    owner, person = make_user(), make_user(email="person@example.com", name="Person")
    make_org("Firma GmbH", owner=owner, members={person: Role.member})
    owner_id, person_id = owner.id, person.id
    exported = runner.invoke(cli, ["users", "export", "person@example.com"])
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.output)["profile"]["name"] == "Person"
    sole = runner.invoke(cli, ["users", "delete", owner.email, "--confirm", owner.email])
    assert sole.exit_code != 0 and "only owner of: firma-gmbh" in sole.output
    done = runner.invoke(cli, ["users", "delete", "person@example.com", "--confirm", "Person@example.com"])
    assert done.exit_code == 0, done.output
    assert "memberships=1" in done.output
    session.expire_all()
    assert session.get(User, person_id) is None and session.get(User, owner_id) is not None

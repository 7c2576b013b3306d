"""The e-mail to a token's holder after an admin or owner revoked it: queued with the revocation, sent once
in the holder's language naming who revoked it, retried after a temporary failure, never to a former member."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from engpass import task_names, tenancy
from engpass.db import utcnow
from engpass.notifications import resend, sendlog
from engpass.notifications.models import SendStatus
from engpass.organizations.models import Membership, Role
from engpass.outbox.models import OutboxMessage
from engpass.tokens import mail
from engpass.tokens import service as tokens
from engpass.tokens.models import ApiToken
from tests.support.api import make_token


@pytest.fixture
def team(session, make_user, make_org):
    admin = make_user(name="Anton Admin")
    member = make_user(name="Mia Mitglied", email="mia@example.com")
    org = make_org("Token AG", owner=make_user(name="Olga"), members={admin: Role.admin, member: Role.member})
    make_token(session, org, member, name="Zapier")
    with tenancy.tenant_context(session, org.id):
        token_id = session.scalars(select(ApiToken.id)).one()
    return org, admin, member, token_id


def _revoke(session, org, token_id, actor):
    with tenancy.tenant_context(session, org.id):
        tokens.revoke_token(session, session.get(ApiToken, token_id), actor.id)
        session.commit()


def _notices(session, org):
    with tenancy.tenant_context(session, org.id):
        stmt = select(OutboxMessage.kwargs).where(OutboxMessage.task_name == task_names.NOTIFY_TOKEN_REVOKED)
        return session.scalars(stmt).all()


def _entry(session, member, org, token_id):
    return sendlog.find(session, member.id, mail.KIND, sendlog.org_period(org.id, token_id))


def test_revoking_someone_elses_token_queues_the_notice_and_ones_own_does_not(client, session, team, login):
    org, admin, member, token_id = team
    make_token(session, org, admin, name="Eigenes")
    with tenancy.tenant_context(session, org.id):
        own_id = session.scalars(select(ApiToken.id).where(ApiToken.name == "Eigenes")).one()
    login(admin)
    assert client.post(f"/o/{org.slug}/api-tokens/{own_id}/revoke").status_code == 302
    assert _notices(session, org) == []
    assert client.post(f"/o/{org.slug}/api-tokens/{token_id}/revoke").status_code == 302
    assert _notices(session, org) == [{"token_id": token_id, "org_id": org.id}]


def test_the_holder_is_told_once_in_german_who_revoked_it(app_context, session, team, smtp, settings):
    org, admin, member, token_id = team
    _revoke(session, org, token_id, admin)
    assert mail.send_revoked_notice(session, org.id, token_id) is True
    assert mail.send_revoked_notice(session, org.id, token_id) is False, "a second delivery of the task"
    (received,) = smtp.handler.received
    assert received.rcpt_tos == ["mia@example.com"]
    assert received.message["Subject"] == "Ihr API-Token „Zapier“ für Token AG wurde widerrufen"
    text = received.message.get_body(("plain",)).get_content()
    assert "Anton Admin hat Ihr API-Token „Zapier“ (engp_…" in text
    assert f"{settings.base_url}/o/{org.slug}/api-tokens/" in text
    assert "<script" not in received.message.get_body(("html",)).get_content()
    assert _entry(session, member, org, token_id).status == SendStatus.sent


def test_nothing_for_a_token_still_working_or_a_holder_who_left(app_context, session, team, smtp):
    org, admin, member, token_id = team
    assert mail.send_revoked_notice(session, org.id, token_id) is False, "not revoked"
    _revoke(session, org, token_id, admin)
    session.execute(delete(Membership).where(Membership.user_id == member.id, Membership.organization_id == org.id))
    session.commit()
    assert mail.send_revoked_notice(session, org.id, token_id) is False
    assert smtp.handler.received == [] and _entry(session, member, org, token_id) is None


def test_a_delayed_notice_is_sent_by_the_sweep_unless_the_holder_left(app_context, session, team, smtp, monkeypatch):
    org, admin, member, token_id = team
    _revoke(session, org, token_id, admin)
    smtp.handler.mode = "451"
    assert mail.send_revoked_notice(session, org.id, token_id) is False
    assert _entry(session, member, org, token_id).status == SendStatus.retry
    smtp.handler.mode = "accept"
    later = utcnow() + sendlog.RETRY_DELAYS[0] + timedelta(seconds=1)
    monkeypatch.setattr(sendlog, "utcnow", lambda: later)
    assert resend.resend_due(session) == 1
    assert "Anton Admin" in smtp.handler.received[0].message.get_body(("plain",)).get_content()

    make_token(session, org, member, name="Zweites")
    with tenancy.tenant_context(session, org.id):
        second_id = session.scalars(select(ApiToken.id).where(ApiToken.name == "Zweites")).one()
    _revoke(session, org, second_id, admin)
    smtp.handler.mode = "451"
    assert mail.send_revoked_notice(session, org.id, second_id) is False
    session.execute(delete(Membership).where(Membership.user_id == member.id, Membership.organization_id == org.id))
    session.commit()
    smtp.handler.mode = "accept"
    even_later = later + sendlog.RETRY_DELAYS[1] + timedelta(seconds=1)
    monkeypatch.setattr(sendlog, "utcnow", lambda: even_later)
    assert resend.resend_due(session) == 0
    assert len(smtp.handler.received) == 1
    session.expire_all()
    given_up = _entry(session, member, org, second_id)
    assert (given_up.status, given_up.last_error) == (SendStatus.failed, "the holder is no longer a member")


def test_the_worker_task_sends_it_to_the_outbox_folder(app, celery, session, settings, team):
    org, admin, member, token_id = team
    _revoke(session, org, token_id, admin)
    task = celery.tasks[task_names.NOTIFY_TOKEN_REVOKED]
    assert task.apply(kwargs={"token_id": token_id, "org_id": org.id}).get() is True
    assert task.apply(kwargs={"token_id": token_id, "org_id": org.id}).get() is False
    (sent,) = Path(settings.outbox_dir).glob("*.eml")
    assert "mia@example.com" in sent.read_text()

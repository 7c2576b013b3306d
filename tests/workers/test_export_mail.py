"""The e-mail after an organization's data export: once, in the requester's language, with a link that works;
retried after a temporary failure unless the export expired or its requester lost the right to it."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from engpass import task_names, tenancy
from engpass.db import utcnow
from engpass.exports import archive, mail, service
from engpass.exports.models import DataExport, ExportStatus
from engpass.notifications import resend, sendlog
from engpass.notifications.models import SendStatus
from engpass.organizations.models import Membership, Role

LINK = re.compile(r"https?://\S+?/exports/data(?:/\d+/download)?\b")


@pytest.fixture
def company(session, make_user, make_org):
    owner = make_user(name="Jörg Eigner", email="joerg@example.com")
    org = make_org("Export Werk GmbH", owner=owner)
    return org, owner


def _export(session, settings, org, owner, *, build: bool = True) -> DataExport:
    with tenancy.tenant_context(session, org.id):
        export, created = service.request_export(session, owner.id)
        session.commit()
        assert created
        if build:
            export = archive.run(session, export.id, settings.export_dir)
        return export


def _parts(message) -> tuple[str, str]:
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def _entry(session, owner, org, export):
    return sendlog.find(session, owner.id, mail.KIND, sendlog.org_period(org.id, export.id))


def test_the_requester_gets_one_german_mail_whose_link_downloads_the_archive(
    app_context, session, settings, company, smtp, client, login
):
    org, owner = company
    export = _export(session, settings, org, owner)
    assert export.status == ExportStatus.done

    assert mail.send_export_finished(session, org.id, export.id) is True
    assert mail.send_export_finished(session, org.id, export.id) is False, "a second delivery of the task"
    (received,) = smtp.handler.received
    assert received.rcpt_tos == ["joerg@example.com"]
    assert received.message["Subject"] == "Ihr Datenexport von Export Werk GmbH ist fertig"
    text, html = _parts(received.message)
    assert "Hallo Jörg Eigner," in text
    assert "ist fertig. Die ZIP-Datei ist" in text
    assert "danach wird er gelöscht" in text and "<script" not in html
    (link,) = set(LINK.findall(text))
    assert link.endswith(f"/o/{org.slug}/exports/data/{export.id}/download")
    assert f'href="{link}"' in html
    assert "List-Unsubscribe" not in received.message, "asked for once: nothing to unsubscribe from"
    assert (_entry(session, owner, org, export).status, _entry(session, owner, org, export).attempts) == (
        SendStatus.sent,
        1,
    )

    login(owner)
    with client.get(link.removeprefix(settings.base_url)) as response:
        assert response.status_code == 200
        assert response.mimetype == "application/zip"
        assert response.data[:2] == b"PK"


def test_an_english_requester_gets_it_in_english(app_context, session, settings, company, smtp):
    org, owner = company
    owner.locale = "en"
    session.commit()
    export = _export(session, settings, org, owner)
    assert mail.send_export_finished(session, org.id, export.id) is True
    (received,) = smtp.handler.received
    assert received.message["Subject"] == "Your data export of Export Werk GmbH is ready"
    assert "You can download it until" in _parts(received.message)[0]


def test_a_failed_export_is_reported_with_the_way_to_start_it_again(app_context, session, settings, company, smtp):
    org, owner = company
    export = _export(session, settings, org, owner, build=False)
    with tenancy.tenant_context(session, org.id):
        session.get(DataExport, export.id).status = ExportStatus.failed
        session.commit()
    assert mail.send_export_finished(session, org.id, export.id) is True
    (received,) = smtp.handler.received
    assert received.message["Subject"] == "Ihr Datenexport von Export Werk GmbH konnte nicht erstellt werden"
    text, _html = _parts(received.message)
    assert "weder geändert noch gelöscht" in text
    assert LINK.findall(text) == [f"{settings.base_url}/o/{org.slug}/exports/data"]


def test_nothing_is_sent_while_the_export_runs_or_for_an_id_of_another_organization(
    app_context, session, settings, company, make_user, make_org, smtp
):
    org, owner = company
    running = _export(session, settings, org, owner, build=False)
    assert mail.send_export_finished(session, org.id, running.id) is False
    other_owner = make_user(email="other@example.com")
    other = make_org("Andere AG", owner=other_owner)
    # The export's id under the other organization: the tenancy layer does not find it there.
    assert mail.send_export_finished(session, other.id, running.id) is False
    assert smtp.handler.received == []
    assert _entry(session, owner, org, running) is None


def test_a_mail_the_server_delays_is_sent_by_the_sweep_later(
    app_context, session, settings, company, smtp, monkeypatch
):
    org, owner = company
    export = _export(session, settings, org, owner)
    smtp.handler.mode = "451"
    assert mail.send_export_finished(session, org.id, export.id) is False
    assert _entry(session, owner, org, export).status == SendStatus.retry

    smtp.handler.mode = "accept"
    later = utcnow() + sendlog.RETRY_DELAYS[0] + timedelta(seconds=1)
    monkeypatch.setattr(sendlog, "utcnow", lambda: later)
    assert resend.resend_due(session) == 1
    assert len(smtp.handler.received) == 1
    session.expire_all()
    assert (_entry(session, owner, org, export).status, _entry(session, owner, org, export).attempts) == (
        SendStatus.sent,
        2,
    )
    assert resend.resend_due(session) == 0


@pytest.mark.parametrize("meanwhile", ("expired", "demoted"))
def test_the_sweep_gives_up_when_the_link_would_no_longer_work(
    app_context, session, settings, company, smtp, monkeypatch, meanwhile
):
    org, owner = company
    export = _export(session, settings, org, owner)
    smtp.handler.mode = "451"
    assert mail.send_export_finished(session, org.id, export.id) is False
    with tenancy.tenant_context(session, org.id):
        if meanwhile == "expired":
            session.get(DataExport, export.id).expires_at = utcnow() - timedelta(minutes=1)
        else:
            session.execute(
                update(Membership)
                .where(Membership.user_id == owner.id, Membership.organization_id == org.id)
                .values(role=Role.member)
            )
        session.commit()

    smtp.handler.mode = "accept"
    later = utcnow() + sendlog.RETRY_DELAYS[0] + timedelta(seconds=1)
    monkeypatch.setattr(sendlog, "utcnow", lambda: later)
    assert resend.resend_due(session) == 0
    assert smtp.handler.received == []
    session.expire_all()
    entry = _entry(session, owner, org, export)
    assert entry.status == SendStatus.failed
    assert ("expired" if meanwhile == "expired" else "may no longer download") in entry.last_error
    assert resend.resend_due(session) == 0, "given up for good"


def test_the_worker_task_builds_the_archive_and_then_sends_the_mail(app, celery, session, settings, company):
    org, owner = company
    with app.app_context():
        export = _export(session, settings, org, owner, build=False)
    task = celery.tasks[task_names.EXPORT_ORGANIZATION]
    assert task.apply(kwargs={"export_id": export.id, "org_id": org.id}).get() == "done"
    assert task.apply(kwargs={"export_id": export.id, "org_id": org.id}).get() == "done", "delivered twice"
    outbox = sorted(Path(settings.outbox_dir).glob("*.eml"))
    assert len(outbox) == 1
    assert "Datenexport" in outbox[0].read_text()

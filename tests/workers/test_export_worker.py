"""An owner's data export goes through the outbox to a real worker process on Redis, which writes the ZIP and
e-mails the owner."""

from __future__ import annotations

import json
import zipfile
from email import message_from_bytes, policy
from uuid import uuid4

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass import task_names, tenancy
from engpass.accounts.service import sign_up
from engpass.cycles import service as cycles
from engpass.cycles.models import Category
from engpass.exports import service
from engpass.exports.models import DataExport, ExportStatus
from engpass.outbox.models import OutboxMessage
from engpass.outbox.service import relay
from tests.support.committed import delete_committed
from tests.support.workers import wait_for, worker_on_private_queue


@pytest.mark.redis
def test_a_real_worker_builds_the_export_with_its_progress(tmp_path, databases, redis_url, live_engine):
    tag = uuid4().hex[:8]
    with Session(live_engine, expire_on_commit=False) as s:
        user, org = sign_up(s, name="Jörg Export", email=f"export-{tag}@example.com", password="x" * 12, company=tag)
        s.commit()
        with tenancy.tenant_context(s, org.id):
            cycles.create_cycle(
                s, title="Rückfragen", category=Category.support, why="Hebel", owner_id=user.id, actor_id=user.id
            )
            export, _created = service.request_export(s, user.id)
            s.commit()
        (message,) = s.scalars(
            select(OutboxMessage).where(
                OutboxMessage.organization_id == org.id, OutboxMessage.task_name == task_names.EXPORT_ORGANIZATION
            )
        ).all()

    def finished():
        with Session(live_engine) as s, tenancy.tenant_context(s, org.id):
            current = s.get(DataExport, export.id)
            return current if current.status in (ExportStatus.done, ExportStatus.failed) else None

    try:
        with worker_on_private_queue(tmp_path, databases, redis_url) as (worker, publish):
            with Session(live_engine) as s:
                assert relay(s, publish, ids=[message.id]).published == 1
            done = wait_for(finished, "the export", worker=worker)
        assert (done.status, done.progress) == (ExportStatus.done, 100), worker.tail()
        archive = tmp_path / "worker-instance" / "exports" / done.file_name
        with zipfile.ZipFile(archive) as zf:
            assert [c["title"] for c in json.loads(zf.read("data/cycles.json"))] == ["Rückfragen"]
            assert json.loads(zf.read("manifest.json"))["organization"]["id"] == org.id
        (sent,) = (tmp_path / "worker-instance" / "outbox").glob("*.eml")
        mail = message_from_bytes(sent.read_bytes(), policy=policy.default)
        assert (mail["To"], mail["Subject"]) == (user.email, f"Ihr Datenexport von {tag} ist fertig")
        assert f"/exports/data/{export.id}/download" in mail.get_body(("plain",)).get_content()
    finally:
        delete_committed(databases, org.id, user.id)

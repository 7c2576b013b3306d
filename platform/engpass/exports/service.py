"""Asking for an organization's data export, finding its file, and clearing away expired ones."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engpass import task_names, tenancy
from engpass.audit.service import record
from engpass.db import utcnow
from engpass.exports.archive import export_path
from engpass.exports.models import AVAILABLE_FOR, DataExport, ExportStatus, aware
from engpass.organizations.models import Organization
from engpass.outbox.service import enqueue

log = logging.getLogger(__name__)

# An export still queued or running after this long will not finish (its worker died for good, or the
# broker lost it): it stops blocking a new one and is marked failed.
STALE_AFTER = timedelta(hours=2)
RECENT = 10


def _stale(export: DataExport, now: datetime) -> bool:
    return export.in_progress and aware(export.created_at) < now - STALE_AFTER


def request_export(session: Any, user_id: int, now: datetime | None = None) -> tuple[DataExport, bool]:
    """A new export of the organization in context, queued for the workers — or the one already under way.

    Returns the export and whether it is new. Audited; the task goes through the outbox, so it exists
    exactly when the caller commits.
    """
    now = now or utcnow()
    for export in session.scalars(
        select(DataExport).where(DataExport.status.in_((ExportStatus.queued, ExportStatus.running)))
    ):
        if not _stale(export, now):
            return export, False
        export.status = ExportStatus.failed
    export = DataExport(requested_by_id=user_id, created_at=now)
    session.add(export)
    session.flush()
    record(session, "data_export.requested", actor_id=user_id, object_type="data_export", object_id=export.id)
    enqueue(session, task_names.EXPORT_ORGANIZATION, export_id=export.id)
    return export, True


def recent(session: Any, limit: int = RECENT) -> list[DataExport]:
    """The organization's latest exports, newest first."""
    stmt = select(DataExport).order_by(DataExport.created_at.desc(), DataExport.id.desc()).limit(limit)
    return list(session.scalars(stmt))


def available_file(export: DataExport, export_dir: str | Path, now: datetime | None = None) -> Path | None:
    """The export's file if it may be downloaded now: done, not expired, present, inside the export folder."""
    if not export.is_available(now) or export.file_name is None:
        return None
    root = Path(export_dir).resolve()
    path = export_path(root, export.file_name).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


@dataclass
class CleanUp:
    rows_deleted: int = 0
    files_deleted: int = 0
    marked_failed: int = 0


def _remove(path: Path, result: CleanUp) -> None:
    try:
        path.unlink()
        result.files_deleted += 1
    except FileNotFoundError:
        pass


def _clean_organization(session: Any, folder: Path, now: datetime, result: CleanUp) -> None:
    kept: set[str] = set()
    for export in session.scalars(select(DataExport)):
        failed_long_ago = export.status == ExportStatus.failed and aware(export.created_at) < now - AVAILABLE_FOR
        if export.is_expired(now) or failed_long_ago:
            if export.file_name:
                _remove(folder.parent / export.file_name, result)
            session.delete(export)
            result.rows_deleted += 1
            continue
        if _stale(export, now):
            export.status = ExportStatus.failed
            result.marked_failed += 1
        if export.file_name:
            kept.add(Path(export.file_name).name)
    session.commit()
    if folder.is_dir():
        # Files no export names any more: the leftovers of a worker that died while writing one.
        for path in folder.iterdir():
            if path.name not in kept and path.stat().st_mtime < (now - STALE_AFTER).timestamp():
                _remove(path, result)


def clean_up(session: Any, export_dir: str | Path, now: datetime | None = None) -> CleanUp:
    """Delete expired exports (rows and files) of every organization, fail the stale ones, and remove the
    folders of organizations that no longer exist. Each organization in its own tenant context and
    transaction; safe to run twice at once (deleting what is gone already is no error)."""
    now = now or utcnow()
    root = Path(export_dir)
    result = CleanUp()
    org_ids = list(session.scalars(select(Organization.id).order_by(Organization.id)))
    for org_id in org_ids:
        with tenancy.tenant_context(session, org_id):
            _clean_organization(session, root / str(org_id), now, result)
        session.expunge_all()
    if root.is_dir():
        known = {str(org_id) for org_id in org_ids}
        for folder in root.iterdir():
            if not (folder.is_dir() and folder.name.isdigit()) or folder.name in known:
                continue
            # Asked again: an organization made since the list above may be writing its first export.
            if session.get(Organization, int(folder.name)) is None:
                # The organization was deleted (its rows went with it, ON DELETE CASCADE): its files go too.
                result.files_deleted += sum(1 for path in folder.rglob("*") if path.is_file())
                shutil.rmtree(folder, ignore_errors=True)
    return result

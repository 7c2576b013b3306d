"""Organizations' data exports: building one (enqueued through the outbox) and clearing expired ones (beat)."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from engpass import task_names
from engpass.db import db
from engpass.exports import archive, service

# A large organization's archive takes longer than the default limits allow (soft 240 s): its progress is
# committed as it goes, and a redelivery starts it again.
EXPORT_SOFT_LIMIT = 1800


def _export_dir() -> str:
    return current_app.extensions["engpass.settings"].export_dir


@shared_task(name=task_names.EXPORT_ORGANIZATION, soft_time_limit=EXPORT_SOFT_LIMIT, time_limit=EXPORT_SOFT_LIMIT + 60)
def export_organization(export_id: int, org_id: int) -> str | None:
    """Runs inside ``org_id`` (AppTask); a failure is recorded on the export, which the owner can start again."""
    export = archive.run(db.session(), export_id, _export_dir())
    return None if export is None else export.status.value


@shared_task(name=task_names.CLEAN_UP_EXPORTS)
def clean_up_exports() -> int:
    """Expired exports' rows and files, every organization; returns the number of files deleted."""
    return service.clean_up(db.session(), _export_dir()).files_deleted

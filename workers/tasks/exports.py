"""Organizations' data exports: building one (enqueued through the outbox) and clearing expired ones (beat)."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from engpass import task_names
from engpass.db import db
from engpass.exports import archive, mail, service

# A large organization's archive takes longer than the default limits allow (soft 240 s): its progress is
# committed as it goes, and a redelivery starts it again.
EXPORT_SOFT_LIMIT = 1800


def _export_dir() -> str:
    return current_app.extensions["engpass.settings"].export_dir


@shared_task(name=task_names.EXPORT_ORGANIZATION, soft_time_limit=EXPORT_SOFT_LIMIT, time_limit=EXPORT_SOFT_LIMIT + 60)
def export_organization(export_id: int, org_id: int) -> str | None:
    """Runs inside ``org_id`` (AppTask); a failure is recorded on the export, which the owner can start again.
    Either way whoever asked for it gets an e-mail, once (``exports.mail``)."""
    session = db.session()
    export = archive.run(session, export_id, _export_dir())
    if export is None:
        return None
    status = export.status.value
    mail.send_export_finished(session, org_id, export_id)
    return status


@shared_task(name=task_names.CLEAN_UP_EXPORTS)
def clean_up_exports() -> int:
    """Expired exports' rows and files, every organization; returns the number of files deleted."""
    return service.clean_up(db.session(), _export_dir()).files_deleted

"""The e-mail that tells whoever asked for a data export that it is ready to download, or that it failed.

Sent by the export's worker task right after the archive (``workers/tasks/exports.py``), through the send
log under (requester, ``data_export``, ``<organization id>:<export id>``): a second delivery of the task
sends nothing, and a temporary failure is sent again by the resend sweep (``notifications.resend``) —
unless the export expired meanwhile or its requester may no longer download exports.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.accounts.models import User
from engpass.db import utcnow
from engpass.exports.models import DataExport, ExportStatus, aware
from engpass.notifications import sendlog
from engpass.notifications.links import external_url
from engpass.notifications.messages import compose
from engpass.notifications.models import SendLog
from engpass.organizations.memberships import role_of
from engpass.organizations.models import Organization
from engpass.organizations.permissions import Action, allows
from engpass.settings import Settings

KIND = "data_export"


def _unsendable(session: Session, export: DataExport | None, requester: User | None, now: datetime) -> str | None:
    """Why this export's mail must not go out (now or ever), or None when it may."""
    if export is None or requester is None:
        return "the export or whoever asked for it is gone"
    if export.in_progress:
        return "the export is not finished"
    if export.status == ExportStatus.done and not export.is_available(now):
        return "the export has expired"
    if not allows(role_of(session, requester.id, export.organization_id), Action.export_organization):
        return "whoever asked for the export may no longer download it"
    return None


def _requester(session: Session, export: DataExport | None) -> User | None:
    if export is None or export.requested_by_id is None:
        return None
    return session.get(User, export.requested_by_id)


def send_export_finished(session: Session, org_id: int, export_id: int) -> bool:
    """Tell the requester that the export is ready (with the link) or failed; True when this call sent it."""
    with tenancy.tenant_context(session, org_id):
        export = session.get(DataExport, export_id)
        requester = _requester(session, export)
        org = session.get(Organization, org_id)
        if org is None or _unsendable(session, export, requester, utcnow()) is not None:
            session.rollback()
            return False
        assert export is not None and requester is not None
        entry = sendlog.claim(session, requester.id, KIND, sendlog.org_period(org_id, export_id))
        if entry is None:
            session.rollback()
            return False
        # Committed before anything is sent: every other delivery of the task now finds the claim.
        session.commit()
        settings: Settings = current_app.extensions["engpass.settings"]
        ready = export.status == ExportStatus.done
        if ready:
            subject = _l("Your data export of %(org)s is ready", org=org.name)
            link = external_url(settings, "exports.data_download", org_slug=org.slug, export_id=export.id)
        else:
            subject = _l("Your data export of %(org)s could not be created", org=org.name)
            link = external_url(settings, "exports.data", org_slug=org.slug)
        message = compose(
            requester,
            subject,
            "export_finished",
            topic=None,
            settings=settings,
            org=org,
            ready=ready,
            link=link,
            size_bytes=export.size_bytes if ready else None,
            until=aware(export.expires_at) if ready and export.expires_at else None,
        )
        return sendlog.send_one(session, entry, message, settings)


def resend(session: Session, entry: SendLog) -> bool:
    """The resend sweep's builder for ``data_export`` rows: the mail again, unless it no longer makes sense."""
    org_id, export_id = sendlog.split_org_period(entry.period)
    with tenancy.tenant_context(session, org_id):
        export = session.get(DataExport, export_id)
        reason = _unsendable(session, export, _requester(session, export), utcnow())
        session.rollback()
    if reason is not None:
        return sendlog.give_up(session, entry, reason)
    return send_export_finished(session, org_id, export_id)

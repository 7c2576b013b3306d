"""Imports every model module, so the metadata is complete for Alembic and the mappers resolve."""

from engpass.accounts.models import User
from engpass.audit.models import AuditEvent
from engpass.consulting.models import AccessRequest, ClientAccess, InvitationCode
from engpass.cycles.models import Cycle, CycleTemplate, Measurement, ProcessStep, StageChange
from engpass.exports.models import DataExport
from engpass.notifications.models import NotificationPreferences, SendLog
from engpass.organizations.models import Membership, Organization
from engpass.outbox.models import OutboxMessage
from engpass.privacy.models import DeletionRecord
from engpass.team.models import Invitation
from engpass.tokens.models import ApiToken
from engpass.trends.models import TrendSnapshot, TrendState

__all__ = [
    "AccessRequest",
    "ApiToken",
    "AuditEvent",
    "ClientAccess",
    "Cycle",
    "CycleTemplate",
    "DataExport",
    "DeletionRecord",
    "Invitation",
    "InvitationCode",
    "Measurement",
    "Membership",
    "NotificationPreferences",
    "Organization",
    "OutboxMessage",
    "ProcessStep",
    "SendLog",
    "StageChange",
    "TrendSnapshot",
    "TrendState",
    "User",
]

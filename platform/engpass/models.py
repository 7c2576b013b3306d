"""Imports every model module, so the metadata is complete for Alembic and the mappers resolve."""

from engpass.accounts.models import User
from engpass.audit.models import AuditEvent
from engpass.organizations.models import Membership, Organization
from engpass.outbox.models import OutboxMessage

__all__ = ["AuditEvent", "Membership", "Organization", "OutboxMessage", "User"]

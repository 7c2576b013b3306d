"""Every kind of audit event the platform writes: its name in the log's filter and the details it carries.

The registry is the contract between the code that records an event and the log that shows it in words:
``audit.service.record`` refuses an action or a detail that is not listed here, so nothing reaches the log
that ``audit.describe`` cannot put into a sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString


@dataclass(frozen=True)
class Kind:
    label: LazyString
    details: frozenset[str] = frozenset()


def _kind(label: LazyString, *details: str) -> Kind:
    return Kind(label, frozenset(details))


# Consulting events name the other organization: the client in the consultancy's log and the other way round.
_ACCESS = ("organization",)

ACTIONS: dict[str, Kind] = {
    "organization.created": _kind(_l("Organization created")),
    "organization.updated": _kind(_l("Settings changed"), "changes"),
    "organization.two_factor_required": _kind(_l("Two-factor authentication required")),
    "organization.two_factor_optional": _kind(_l("Two-factor authentication optional")),
    "cycle.created": _kind(_l("Bottleneck named"), "title", "previous_cycle_id", "focus_warning", "sponsor_id"),
    "cycle.sponsor_changed": _kind(_l("Sponsor changed"), "changes"),
    "cycle.bottleneck_updated": _kind(_l("Bottleneck changed"), "changes"),
    "cycle.baseline_updated": _kind(_l("Status quo changed"), "changes"),
    "cycle.process_updated": _kind(_l("Process steps changed"), "changes"),
    "cycle.solution_updated": _kind(_l("Solution changed"), "changes"),
    "cycle.prototype_updated": _kind(_l("Prototype changed"), "changes"),
    "cycle.stage_changed": _kind(_l("Stage changed"), "changes", "backwards"),
    "cycle.decided": _kind(_l("Decision made"), "changes"),
    "cycle.deleted": _kind(_l("Cycle deleted"), "title"),
    "cycle_template.created": _kind(_l("Template saved"), "name", "source_cycle_id"),
    "cycle_template.deleted": _kind(_l("Template deleted"), "name"),
    "measurement.added": _kind(_l("Measurement added"), "measurement_id", "changes"),
    "measurement.updated": _kind(_l("Measurement changed"), "measurement_id", "changes"),
    "measurement.deleted": _kind(_l("Measurement deleted"), "measurement_id", "changes"),
    "candidate.proposed": _kind(_l("Candidate proposed"), "title"),
    "candidate.updated": _kind(_l("Candidate changed"), "changes"),
    "candidate.merged": _kind(_l("Candidates merged"), "title", "into_id", "into_title", "changes"),
    "candidate.picked": _kind(_l("Candidate picked as the next bottleneck"), "title", "cycle_id"),
    "candidate.dismissed": _kind(_l("Candidate dismissed"), "title", "reason"),
    "candidate.reopened": _kind(_l("Candidate reopened"), "title"),
    "indirect_cost.added": _kind(_l("Indirect cost item added"), "item_id", "changes"),
    "indirect_cost.updated": _kind(_l("Indirect cost item changed"), "item_id", "changes"),
    "indirect_cost.deleted": _kind(_l("Indirect cost item deleted"), "item_id", "changes"),
    "rollout.opened": _kind(_l("Rollout opened"), "changes"),
    "rollout.updated": _kind(_l("Rollout changed"), "changes"),
    "rollout_measurement.added": _kind(_l("Rollout measurement added"), "measurement_id", "changes"),
    "rollout_measurement.updated": _kind(_l("Rollout measurement changed"), "measurement_id", "changes"),
    "rollout_measurement.deleted": _kind(_l("Rollout measurement deleted"), "measurement_id", "changes"),
    "measurements.imported": _kind(_l("Measurements imported"), "count", "source"),
    "consulting.access_granted": _kind(_l("Consultancy access granted"), *_ACCESS, "level"),
    "consulting.access_changed": _kind(_l("Consultancy access changed"), *_ACCESS, "changes"),
    "consulting.access_revoked": _kind(_l("Consultancy access revoked"), *_ACCESS),
    "consulting.access_requested": _kind(_l("Consultancy access requested"), "client", "consultancy", "level"),
    "consulting.request_declined": _kind(_l("Access request declined"), *_ACCESS),
    "consulting.code_regenerated": _kind(_l("New invitation code")),
    "member.invited": _kind(_l("Person invited"), "email", "role"),
    "invitation.resent": _kind(_l("Invitation sent again"), "email"),
    "invitation.cancelled": _kind(_l("Invitation withdrawn"), "email"),
    "invitation.accepted": _kind(_l("Invitation accepted"), "invitation_id", "role"),
    "member.role_changed": _kind(_l("Role changed"), "user_id", "old", "new"),
    "member.removed": _kind(_l("Member removed"), "user_id", "role"),
    "member.left": _kind(_l("Member left"), "user_id"),
    "ownership.transferred": _kind(_l("Ownership transferred"), "user_id", "old", "previous_owner_id"),
    "cycles.exported": _kind(_l("Cycles exported"), "table", "format", "filters", "rows"),
    "data_export.requested": _kind(_l("Data export requested")),
    "data_export.downloaded": _kind(_l("Data export downloaded")),
    "api_token.created": _kind(_l("API token created"), "name", "user_id", "hint", "expires_at"),
    "api_token.revoked": _kind(_l("API token revoked"), "name", "user_id", "hint"),
    "sso.configured": _kind(_l("Single sign-on set up or changed"), "issuer", "client_id", "default_role", "fields"),
    "sso.removed": _kind(_l("Single sign-on switched off")),
    "sso.required": _kind(_l("Single sign-on required")),
    "sso.optional": _kind(_l("Single sign-on optional")),
    "sso.domain_added": _kind(_l("Single sign-on domain added"), "domain"),
    "sso.domain_verified": _kind(_l("Single sign-on domain verified"), "domain"),
    "sso.domain_removed": _kind(_l("Single sign-on domain removed"), "domain"),
    "sso.member_joined": _kind(_l("Joined by single sign-on"), "user_id", "role"),
    "webhook.created": _kind(_l("Webhook added"), "url", "events"),
    "webhook.updated": _kind(_l("Webhook changed"), "changes"),
    "webhook.deleted": _kind(_l("Webhook deleted"), "url"),
    "webhook.secret_rotated": _kind(_l("Webhook secret rotated"), "url"),
    "webhook.redelivered": _kind(_l("Webhook delivery sent again"), "delivery_id"),
}


class UnknownAuditEvent(ValueError):
    """An action, or a detail of it, that the registry does not list: the log could not show it in words."""


def check(action: str, details: set[str]) -> None:
    kind = ACTIONS.get(action)
    if kind is None:
        raise UnknownAuditEvent(f"audit action {action!r} is not in engpass.audit.actions.ACTIONS")
    unknown = details - kind.details
    if unknown:
        raise UnknownAuditEvent(f"audit action {action!r} does not declare the details {sorted(unknown)}")

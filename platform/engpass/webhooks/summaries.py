"""The organization's daily overdue list and weekly summary as events, for Teams, Slack and webhooks.

The reminders' morning run and the digest's batches call these once per organization; each writes its event at
most once per day or week (``events.emit_once``), whatever runs repeat. The payload holds codes, figures and
links, not words: ``chat_messages`` words it in the organization's language when it is delivered.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from engpass.notifications.links import external_url
from engpass.organizations.models import Organization
from engpass.settings import Settings
from engpass.webhooks.events import EventType, WebhookEvent, emit_once, json_value

if TYPE_CHECKING:
    from engpass.digest.content import OrgDigest
    from engpass.reminders.rules import Reminder


def announce_overdue(
    session: Session, org: Organization, reminders: list[Reminder], today: date, settings: Settings
) -> WebhookEvent | None:
    """``reminders.overdue`` with ``reminders`` (the organization's open ones ``today``), once per day."""

    def data() -> dict[str, Any]:
        items = [
            {
                "rule": reminder.rule.value,
                "cycle_id": reminder.cycle_id,
                "cycle_title": reminder.cycle_title,
                "since": json_value(reminder.since),
                "web_url": external_url(settings, "cycles.show", org_slug=org.slug, cycle_id=reminder.cycle_id),
            }
            for reminder in reminders
        ]
        return {
            "title": org.name,
            "day": json_value(today),
            "items": items,
            "web_url": _url(settings, "reminders.todo", org),
        }

    return emit_once(session, EventType.reminders_overdue, today.isoformat(), data)


def announce_week(session: Session, org: Organization, digest: OrgDigest, settings: Settings) -> WebhookEvent | None:
    """``digest.weekly`` with the figures of ``digest`` (built by ``digest.content``), once per week it describes."""
    year, week, _weekday = digest.week_start.isocalendar()

    def data() -> dict[str, Any]:
        latest = digest.latest
        return {
            "title": org.name,
            "week_start": json_value(digest.week_start),
            "week_end": json_value(digest.week_end),
            "level": digest.level,
            "level_trend": digest.level_trend,
            "euros_per_year": json_value(latest.euros_per_year) if latest is not None else None,
            "euros_gained": json_value(digest.euros_gained),
            "currency": org.currency,
            "changes": len(digest.changes) + digest.more_changes,
            "open_cycles": digest.open_cycles,
            "open_warnings": len(digest.warnings),
            "web_url": _url(settings, "organizations.home", org),
        }

    return emit_once(session, EventType.digest_weekly, f"{year}-W{week:02d}", data)


def _url(settings: Settings, endpoint: str, org: Organization) -> str:
    return external_url(settings, endpoint, org_slug=org.slug)

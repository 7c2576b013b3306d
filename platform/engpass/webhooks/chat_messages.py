"""What a Teams or Slack channel is told about an event, in the organization's language.

``compose`` turns an event's fixed payload (``events.emit``) into a ``ChatMessage``: a headline, a few facts and a
link into the app (the payload's ``web_url``, absolute from ENGPASS_BASE_URL). Texts are translated and numbers
formatted in ``locale``; ``cards`` turns the message into each service's JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from engpass.cycles.forms import DECISION_LABELS, STAGE_LABELS
from engpass.cycles.models import Decision, Stage
from engpass.formatting import day, money, number
from engpass.i18n import DEFAULT_LOCALE, LANGUAGES
from engpass.reminders.rules import Rule
from engpass.reminders.texts import RULE_LABELS

# Overdue items a chat message lists; "and 3 more" and the to-do page's link stand for the rest.
MAX_OVERDUE_ITEMS = 5


@dataclass(frozen=True)
class ChatMessage:
    headline: str
    title: str
    facts: tuple[tuple[str, str], ...]
    link_label: str
    link_url: str | None

    @property
    def fallback(self) -> str:
        """One line for notifications and clients that show no cards."""
        return f"{self.headline}: {self.title}"


def _label(labels: dict[Any, Any], kind: type[Stage] | type[Decision] | type[Rule], value: str | None) -> str:
    try:
        return str(labels[kind(value)])
    except ValueError:
        return value or ""


def _figure(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return number(Decimal(value))
    except InvalidOperation:
        return value


def _kpi_facts(data: dict[str, Any]) -> list[tuple[str, str]]:
    if not data.get("kpi_name"):
        return []
    unit = f" {data['kpi_unit']}" if data.get("kpi_unit") else ""
    facts = [(_("KPI"), str(data["kpi_name"]))]
    for label, key in ((_("Baseline"), "kpi_baseline"), (_("Target"), "kpi_target")):
        figure = _figure(data.get(key))
        if figure is not None:
            facts.append((label, figure + unit))
    return facts


def _stage_changed(data: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    stage = _label(STAGE_LABELS, Stage, data.get("stage"))
    previous = _label(STAGE_LABELS, Stage, data.get("previous_stage"))
    headline = (
        _("Moved back to %(stage)s", stage=stage) if data.get("backwards") else _("Now in %(stage)s", stage=stage)
    )
    return headline, [(_("Stage"), f"{previous} → {stage}"), *_kpi_facts(data)]


def _decision_recorded(data: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    decision = _label(DECISION_LABELS, Decision, data.get("decision"))
    facts = [(_("Decision"), decision)]
    if data.get("decision_reason"):
        facts.append((_("Why?"), str(data["decision_reason"])))
    return _("Decision: %(decision)s", decision=decision), [*facts, *_kpi_facts(data)]


def _day(value: str | None) -> str:
    try:
        return day(date.fromisoformat(value or ""))
    except ValueError:
        return value or ""


def _overdue(data: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    items = data.get("items") or []
    headline = ngettext("%(num)d item is overdue", "%(num)d items are overdue", len(items))
    facts = [
        (
            str(item.get("cycle_title") or ""),
            _(
                "%(what)s, since %(day)s",
                what=_label(RULE_LABELS, Rule, item.get("rule")),
                day=_day(item.get("since")),
            ),
        )
        for item in items[:MAX_OVERDUE_ITEMS]
    ]
    more = len(items) - MAX_OVERDUE_ITEMS
    if more > 0:
        facts.append(("…", _("and %(num)d more", num=more)))
    return headline, facts


def _money(data: dict[str, Any], key: str) -> str:
    try:
        return money(Decimal(data[key]), str(data.get("currency") or "EUR"))
    except (KeyError, TypeError, InvalidOperation):
        return "–"


def _weekly(data: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    headline = _(
        "Weekly summary %(first)s – %(last)s", first=_day(data.get("week_start")), last=_day(data.get("week_end"))
    )
    level = data.get("level")
    facts = [
        (_("Maturity level"), number(level) if level is not None else "–"),
        (_("Savings per year"), _money(data, "euros_per_year")),
        (_("Added this week"), _money(data, "euros_gained")),
        (_("Changes this week"), number(data.get("changes") or 0)),
        (_("Open warning signs"), number(data.get("open_warnings") or 0)),
    ]
    return headline, facts


COMPOSERS = {
    "cycle.stage_changed": _stage_changed,
    "decision.recorded": _decision_recorded,
    "reminders.overdue": _overdue,
    "digest.weekly": _weekly,
}


def compose(payload: dict[str, Any], locale: str) -> ChatMessage:
    """The message for a chat event's payload in ``locale`` (German when the organization's is unknown).
    Needs an application context for the catalogues."""
    data = payload.get("data") or {}
    with force_locale(locale if locale in LANGUAGES else DEFAULT_LOCALE):
        headline, facts = COMPOSERS[payload["type"]](data)
        return ChatMessage(
            headline=headline,
            title=str(data.get("title") or ""),
            facts=tuple(facts),
            link_label=_("Open in Engpass"),
            link_url=data.get("web_url"),
        )

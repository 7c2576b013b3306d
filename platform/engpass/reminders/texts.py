"""What a reminder says, in the reader's language: the to-do page, the dashboard and the e-mails share it."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from engpass.formatting import day
from engpass.reminders.rules import Reminder, Rule

RULE_LABELS = {
    Rule.missing_baseline: _l("Status quo not quantified"),
    Rule.overdue_prototype: _l("Prototype overdue"),
    Rule.missing_measurement: _l("No recent measurement"),
    Rule.no_next_bottleneck: _l("Next bottleneck not named"),
    Rule.no_owner: _l("Nobody responsible"),
    Rule.rollout_checkpoint: _l("Rollout re-measurement due"),
}

ACTION_LABELS = {
    Rule.missing_baseline: _l("Quantify the status quo"),
    Rule.overdue_prototype: _l("Enter a measurement"),
    Rule.missing_measurement: _l("Enter a measurement"),
    Rule.no_next_bottleneck: _l("Name the next bottleneck"),
    Rule.no_owner: _l("Choose who is responsible"),
    Rule.rollout_checkpoint: _l("Measure the rollout"),
}


def describe(reminder: Reminder) -> str:
    """What is missing, in a sentence."""
    on = day(reminder.reference)
    match reminder.rule:
        case Rule.missing_baseline:
            return _(
                "Named on %(day)s, and the status quo is still not quantified: hours per week, the KPI "
                "and its baseline value.",
                day=on,
            )
        case Rule.overdue_prototype:
            return _("The prototype is past its target date of %(day)s. Once it runs, measure the result.", day=on)
        case Rule.missing_measurement:
            return _("No new measurement since %(day)s.", day=on)
        case Rule.no_next_bottleneck:
            return _("Decided on %(day)s, and no next bottleneck is named yet.", day=on)
        case Rule.no_owner:
            return _("Nobody is responsible for this cycle. Its reminders go to the owners and admins.")
        case Rule.rollout_checkpoint:
            return _("The rollout's effect is due to be measured again on %(day)s: does it hold at scale?", day=on)


def since_text(reminder: Reminder, today: date) -> str:
    """How long it has been open, counted in the organization's days."""
    days = reminder.days_open(today)
    if days <= 0:
        return _("Due today")
    if days == 1:
        return _("Due since yesterday")
    return ngettext("Due for %(num)d day", "Due for %(num)d days", days)

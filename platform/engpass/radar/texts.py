"""What the radar says, in the reader's language: each pattern, each rule with its threshold, what triggered a
finding and what to do next. The dashboard, the digest, the API and docs/radar.md say the same."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from engpass.formatting import day, money, number, percent
from engpass.radar import rules
from engpass.radar.models import Pattern, RadarRule
from engpass.radar.service import Shown

PATTERN_NAMES = {
    Pattern.tool_first: _l("Tool first"),
    Pattern.isolated_pilot: _l("Isolated pilot"),
    Pattern.lone_expert: _l("Lone expert"),
}
PATTERN_ORDER = tuple(Pattern)


def rule_text(rule: RadarRule) -> str:
    """The rule and its threshold in words."""
    match rule:
        case RadarRule.running_cost:
            return _(
                "The running cost per year (the solution's and, once scaled, the rollout's) is above what it "
                "measurably brings per year."
            )
        case RadarRule.low_adoption:
            return _(
                "Fewer than %(share)s of the rollout's target use it more than %(days)d days after its start.",
                share=percent(Decimal(rules.ADOPTION_MIN_PERCENT)),
                days=rules.ADOPTION_CHECK_DAYS,
            )
        case RadarRule.scaled_unmeasured:
            return _(
                "Decided to scale, and neither the cycle nor its rollout measured for more than %(days)d days.",
                days=rules.SCALED_UNMEASURED_DAYS,
            )
        case RadarRule.no_rollout:
            return _(
                "Decided to scale, and no rollout opened more than %(days)d days after the decision.",
                days=rules.ROLLOUT_DUE_DAYS,
            )
        case RadarRule.target_met_undecided:
            return _(
                "The prototype met its target and has waited for a decision for more than %(days)d days.",
                days=rules.UNDECIDED_DAYS,
            )
        case RadarRule.no_sponsor:
            return _(
                "An open cycle, or one decided in the last %(days)d days, without a sponsor from the management.",
                days=rules.SPONSOR_DECIDED_DAYS,
            )
        case RadarRule.one_owner:
            return _(
                "One person owns more than %(share)s of the cycles named in the last 12 months "
                "(counted from %(minimum)d cycles on).",
                share=percent(Decimal(rules.OWNER_MAX_PERCENT)),
                minimum=rules.OWNER_MIN_CYCLES,
            )
        case RadarRule.stuck_iterations:
            return _(
                "%(count)d decisions to iterate in a row along a chain of cycles without the KPI improving.",
                count=rules.STUCK_ITERATIONS,
            )


def trigger_text(finding: Shown, currency: str) -> str:
    """The figures that triggered the finding."""
    figures = finding.figures
    match finding.rule:
        case RadarRule.running_cost:
            return _(
                "Running cost %(running)s per year against %(saving)s measured per year.",
                running=money(round(Decimal(figures["running_per_year"])), currency),
                saving=money(round(Decimal(figures["saving_per_year"])), currency),
            )
        case RadarRule.low_adoption:
            share = Decimal(figures["reached"]) * 100 / Decimal(figures["target"])
            return _(
                "%(reached)s of %(target)s reached (%(share)s) after %(days)s days.",
                reached=number(figures["reached"]),
                target=number(figures["target"]),
                share=percent(share.quantize(Decimal(1))),
                days=number(figures["days"]),
            )
        case RadarRule.scaled_unmeasured:
            return _("Nothing measured since %(day)s.", day=day(date.fromisoformat(figures["since"])))
        case RadarRule.no_rollout:
            return ngettext(
                "Decided %(num)d day ago, no rollout.", "Decided %(num)d days ago, no rollout.", figures["days"]
            )
        case RadarRule.target_met_undecided:
            return _(
                "Target reached to %(share)s, undecided for %(days)s days.",
                share=percent(Decimal(figures["target_percent"])),
                days=number(figures["days"]),
            )
        case RadarRule.no_sponsor:
            return _("No sponsor named.")
        case RadarRule.one_owner:
            return _(
                "%(name)s owns %(count)s of %(total)s cycles (%(share)s).",
                name=finding.user_name or _("A former member"),
                count=number(figures["cycles"]),
                total=number(figures["total"]),
                share=percent((Decimal(figures["cycles"]) * 100 / Decimal(figures["total"])).quantize(Decimal(1))),
            )
        case RadarRule.stuck_iterations:
            return _("%(count)s iterations in a row without an improvement.", count=number(figures["iterations"]))


def next_step(rule: RadarRule) -> str:
    """What to do next."""
    match rule:
        case RadarRule.running_cost:
            return _(
                "Cut what nobody uses (licences, seats) or measure whether it brings more than recorded; "
                "if not, drop the tool."
            )
        case RadarRule.low_adoption:
            return _(
                "Ask those not reached what stops them: train, simplify or narrow the target before spending more."
            )
        case RadarRule.scaled_unmeasured:
            return _("Measure the effect at scale now: only numbers show whether it holds.")
        case RadarRule.no_rollout:
            return _("Open the rollout: whom it should reach, by when, and what scaling costs.")
        case RadarRule.target_met_undecided:
            return _("The prototype did what it should: decide now to scale, iterate or drop it.")
        case RadarRule.no_sponsor:
            return _("Name a sponsor from the management who backs the cycle and decides at its end.")
        case RadarRule.one_owner:
            return _("Spread the cycles: let others own the next bottlenecks, each with a sponsor behind them.")
        case RadarRule.stuck_iterations:
            return _(
                "Stop iterating: check whether this is still the biggest bottleneck, or drop the solution and "
                "pick the next one."
            )


def by_pattern(findings: list[Shown]) -> list[tuple[Pattern, str, list[Shown]]]:
    """The findings grouped under their pattern, in the method's order; patterns without findings left out."""
    return [
        (pattern, str(PATTERN_NAMES[pattern]), [f for f in findings if f.pattern == pattern])
        for pattern in PATTERN_ORDER
        if any(f.pattern == pattern for f in findings)
    ]

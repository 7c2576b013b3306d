"""Turning one organization's digest into an e-mail for one reader, in the reader's language.

E-mail clients block scripts and SVG, so the maturity chart is a row of table cells whose
heights are the weekly levels: it renders in every client and prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from engpass.accounts.models import User
from engpass.cycles.forms import DECISION_LABELS, STAGE_LABELS
from engpass.digest.content import OrgDigest
from engpass.formatting import day, money, number
from engpass.mail import Mail
from engpass.maturity.model import LEVEL_NAMES
from engpass.organizations.models import Organization

# Pixels per maturity level in the bar chart (five levels: 60 px high at most).
BAR_STEP = 12


@dataclass(frozen=True)
class TodoLine:
    """One open item of the reader's to-do list, already worded and linked."""

    cycle_title: str
    what: str
    since: date | None
    url: str


@dataclass(frozen=True)
class DigestLinks:
    dashboard: str
    todo: str
    preferences: str
    unsubscribe: str


def render(user: User, org: Organization, digest: OrgDigest, todo: list[TodoLine], links: DigestLinks) -> Mail:
    """Needs an application context (templates, Babel); renders in ``user.locale``."""
    with force_locale(user.locale):
        subject = _(
            "%(org)s: your week %(first)s – %(last)s",
            org=org.name,
            first=day(digest.week_start, "short"),
            last=day(digest.week_end, "short"),
        )
        context = {
            "user": user,
            "org": org,
            "digest": digest,
            "todo": todo,
            "links": links,
            "level_names": {level: str(name) for level, name in LEVEL_NAMES.items()},
            "stage_labels": {stage.value: str(label) for stage, label in STAGE_LABELS.items()},
            "decision_labels": {d.value: str(label) for d, label in DECISION_LABELS.items()},
            "bar_step": BAR_STEP,
            "money": lambda value: money(round(Decimal(value)), org.currency),
            "number": number,
            "day": day,
        }
        text = render_template("email/digest.txt", **context)
        html = render_template("email/digest.html", **context)
    return Mail(to=user.email, subject=subject, text=text, html=html)

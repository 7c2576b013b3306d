"""Turning one organization's digest into an e-mail for one reader, in the reader's language.

E-mail clients block scripts and SVG, so the maturity chart is a row of table cells whose
heights are the weekly levels: it renders in every client and prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from email.message import EmailMessage

from flask_babel import gettext as _
from flask_babel.speaklater import LazyString

from engpass.accounts.models import User
from engpass.cycles.forms import DECISION_LABELS, STAGE_LABELS
from engpass.digest.content import OrgDigest
from engpass.formatting import day, money, number
from engpass.maturity.model import LEVEL_NAMES
from engpass.notifications.messages import compose
from engpass.notifications.preferences import Topic
from engpass.organizations.models import Organization
from engpass.settings import Settings

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
class DigestPages:
    """Where the digest's buttons lead, as absolute URLs."""

    dashboard: str
    todo: str


def _subject(org: Organization, digest: OrgDigest) -> str:
    return _(
        "%(org)s: your week %(first)s – %(last)s",
        org=org.name,
        first=day(digest.week_start, "short"),
        last=day(digest.week_end, "short"),
    )


def compose_digest(
    user: User,
    org: Organization,
    digest: OrgDigest,
    todo: list[TodoLine],
    pages: DigestPages,
    settings: Settings | None = None,
) -> EmailMessage:
    """The message for ``user``, with the digest's unsubscribe headers; needs an application context."""
    return compose(
        user,
        # Evaluated by compose in the reader's language, dates included.
        LazyString(_subject, org, digest),
        "digest",
        topic=Topic.digest,
        settings=settings,
        org=org,
        digest=digest,
        todo=todo,
        pages=pages,
        level_names=LEVEL_NAMES,
        stage_labels={stage.value: label for stage, label in STAGE_LABELS.items()},
        decision_labels={d.value: label for d, label in DECISION_LABELS.items()},
        bar_step=BAR_STEP,
        money=lambda value: money(round(Decimal(value)), org.currency),
        number=number,
        day=day,
    )

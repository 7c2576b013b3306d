"""Turning one organization's digest into an e-mail for one reader, in the reader's language.

E-mail clients block scripts and SVG, so the maturity chart is a row of table cells whose
heights are the weekly levels: it renders in every client and prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel.speaklater import LazyString
from markupsafe import Markup

from engpass.accounts.models import User
from engpass.cycles.forms import DECISION_LABELS, STAGE_LABELS
from engpass.digest.content import Change, ChangeKind, OrgDigest
from engpass.formatting import day, money, number
from engpass.mail import OutgoingMail
from engpass.maturity.model import LEVEL_NAMES
from engpass.notifications.messages import compose
from engpass.notifications.preferences import Topic
from engpass.organizations.models import Organization
from engpass.radar import service as radar
from engpass.radar import texts as radar_texts
from engpass.settings import Settings

# Pixels per maturity level in the bar chart (five levels: 60 px high at most).
BAR_STEP = 12
# Last week's changes a consultant's digest lists per client; the client's dashboard has the rest.
CLIENT_CHANGES = 3
# The small grey lines under figures and beside to-do items.
MUTED = "color:#5b6577;font-size:13px;"


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
    # The proposal form, for a reader who may propose bottleneck candidates.
    propose: str | None = None


def change_text(change: Change) -> str:
    """One of last week's changes in words, in the current language: plain text, which the HTML templates escape
    like any other value (a text template included into them was not escaped: a cycle's title went out as
    markup)."""
    title = change.cycle_title
    match change.kind:
        case ChangeKind.named:
            return _("New bottleneck named: %(title)s", title=title)
        case ChangeKind.moved:
            return _("%(title)s moved on to %(stage)s", title=title, stage=STAGE_LABELS[change.stage])
        case ChangeKind.moved_back:
            return _("%(title)s went back to %(stage)s", title=title, stage=STAGE_LABELS[change.stage])
        case ChangeKind.measured:
            return _("%(title)s: new measurement of %(day)s", title=title, day=day(change.measured_on))
        case ChangeKind.decided:
            decision = DECISION_LABELS[change.decision] if change.decision is not None else ""
            return _("%(title)s decided: %(decision)s", title=title, decision=decision)


def _week_context() -> dict[str, object]:
    """What the templates that tell a week (``_digest_week.*``, ``digest_clients.*``) format it with."""
    return {
        "level_names": LEVEL_NAMES,
        "change_text": change_text,
        "muted": MUTED,
        "number": number,
        "day": day,
    }


def _worded_warnings(digest: OrgDigest, currency: str) -> list[tuple[str, list[tuple[radar.Shown, str, str]]]]:
    """The radar's findings under their pattern's name, each with its trigger and next step in words."""
    return [
        (name, [(f, radar_texts.trigger_text(f, currency), radar_texts.next_step(f.rule)) for f in findings])
        for _pattern, name, findings in radar_texts.by_pattern(digest.warnings)
    ]


def _subject(org: Organization, digest: OrgDigest) -> str:
    return _(
        "%(org)s: your week %(first)s – %(last)s",
        org=org.name,
        first=day(digest.week_start, "short"),
        last=day(digest.week_end, "short"),
    )


@dataclass(frozen=True)
class _WeekPart:
    """The subject and the week's part of the body (standing, chart, changes), which read the same for every
    member of the organization in one language: rendered for the first reader of each language and then
    taken from ``rendered``. It is most of a digest's rendering, and a batch has many readers per organization.

    Keyed by language only: ``digest`` already belongs to one time zone (a batch builds one per organization,
    week and time zone), and the week's part names no reader.
    """

    org: Organization
    digest: OrgDigest
    rendered: dict[tuple[str, str], str]

    def __call__(self, part: str) -> str:
        language = str(get_locale())
        if (part, language) not in self.rendered:
            if part == "subject":
                self.rendered[part, language] = _subject(self.org, self.digest)
            else:
                # Every message has both bodies: rendered together, they word the radar's findings once.
                self.rendered.update(((body, language), text) for body, text in self._bodies().items())
        return self.rendered[part, language]

    def _bodies(self) -> dict[str, str]:
        org = self.org
        context = {
            "org": org,
            "digest": self.digest,
            "bar_step": BAR_STEP,
            "money": lambda value: money(round(Decimal(value)), org.currency),
            "warnings": _worded_warnings(self.digest, org.currency),
            **_week_context(),
        }
        return {
            # Rendered (and so escaped) by its own template; the digest's HTML template puts it in as it is.
            "html": Markup(render_template("email/_digest_week.html", **context)),
            "txt": render_template("email/_digest_week.txt", **context),
        }


def compose_digest(
    user: User,
    org: Organization,
    digest: OrgDigest,
    todo: list[TodoLine],
    pages: DigestPages,
    settings: Settings | None = None,
    *,
    rendered: dict[tuple[str, str], str] | None = None,
    decisions: list[TodoLine] | None = None,
) -> OutgoingMail:
    """The message for ``user``, with the digest's unsubscribe headers; needs an application context.

    ``rendered``: what was rendered of this ``digest`` for earlier readers, by part and language; a batch
    passes the same dict for every member of the organization, which fills it. ``decisions``: the "as
    sponsor" block, the decisions waiting for this reader.
    """
    week = _WeekPart(org, digest, {} if rendered is None else rendered)
    # The quarter's question goes to those who may answer it.
    asked = digest.asks_for_candidates and pages.propose is not None
    return compose(
        user,
        # Evaluated by compose in the reader's language, dates included.
        LazyString(week, "subject"),
        "digest",
        topic=Topic.digest,
        settings=settings,
        week=week,
        todo=todo,
        decisions=decisions or [],
        pages=pages,
        muted=MUTED,
        day=day,
        candidates=digest.backlog if asked else None,
        candidate_money=lambda value: money(round(Decimal(value)), org.currency),
    )


@dataclass(frozen=True)
class ClientWeek:
    """One client's lines in a consultant's digest: its week, how many items wait there, and its dashboard."""

    org: Organization
    digest: OrgDigest
    open_items: int
    dashboard: str


def _clients_subject(first: date, last: date) -> str:
    return _("Your clients: the week %(first)s – %(last)s", first=day(first, "short"), last=day(last, "short"))


def compose_clients_digest(
    user: User,
    clients: list[ClientWeek],
    portfolio: str | None,
    settings: Settings | None = None,
) -> OutgoingMail:
    """A consultant's one digest across every client whose data they may see, instead of one per client:
    per client the level and its trend, the savings, last week's changes and the open items, each linking
    to the client's dashboard; ``portfolio`` links to the consultancy's portfolio."""
    first, last = clients[0].digest.week_start, clients[0].digest.week_end
    return compose(
        user,
        LazyString(_clients_subject, first, last),
        "digest_clients",
        topic=Topic.digest,
        settings=settings,
        clients=clients,
        first=first,
        last=last,
        portfolio=portfolio,
        money=lambda value, currency: money(round(Decimal(value)), currency),
        changes_shown=CLIENT_CHANGES,
        **_week_context(),
    )

"""Every main page fits a phone and a desk: nothing sticks out, nothing is cut off, the header stays one row.

The pages are generated from the URL map (every organization page a GET reaches without further arguments),
plus the cycle page of a cycle whose follower has a long title with the list of its measurements, the list of
a rollout's measurements, the to-do lists, a second page of the to-do list and of the portfolio (pages of one
row here, so that the demo's few rows show the pager) and the account settings, each seen by the demo owner
and by the demo consultant inside the same client and in the consultancy.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.candidates import service as candidates
from engpass.consulting import views as consulting_views
from engpass.cycles.models import Cycle
from engpass.demo.data import DEMO_CONSULTANCY, DEMO_PASSWORD, load_demo
from engpass.organizations.models import Organization
from engpass.reminders import views as reminder_views
from engpass.rollouts.models import Rollout
from tests.support.browser import live_app, log_in, watched_page

WIDTHS = (1280, 375)
OWNER = "owner@demo.example"
CONSULTANT = "consultant@demo.example"
CLIENT = "Müller Metallbau GmbH"
LONG_TITLE = (
    "Reklamationsbearbeitung im Außendienst dauert wegen fehlender Rückmeldungen aus der "
    "Arbeitsvorbereitung­sabteilung durchschnittlich elf Arbeitstage"
)
# A text field is one line; a taller one is a layout bug (a flex item stretched to its row, say).
MAX_FIELD_HEIGHT = 60
# One row of the header at desk width: the brand, the switcher, the navigation and the account menu.
MAX_HEADER_HEIGHT = 72

# Every measurement in one round trip: the page's width, each element sticking out or cutting its text off.
MEASURE = """(maxField) => {
  const width = window.innerWidth;
  const visible = (el) => {
    if (el.closest('details:not([open]) > :not(summary)')) return false;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') return false;
    // Text for screen readers only sits in a 1px or clipped box on purpose (a phone's table headers, say).
    for (let up = el; up; up = up.parentElement) {
      const box = up.getBoundingClientRect();
      if (box.width <= 1 || box.height <= 1 || getComputedStyle(up).clipPath !== 'none') return false;
    }
    return true;
  };
  const scrolls = (el) => {
    for (let up = el.parentElement; up; up = up.parentElement) {
      const overflow = getComputedStyle(up).overflowX;
      if (overflow === 'auto' || overflow === 'scroll') return true;
    }
    return false;
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const field = 'input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select:not([multiple])';
  const outside = [], clipped = [], tall = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (!visible(el)) continue;
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 && !scrolls(el)) outside.push(`${name(el)} ends at ${Math.round(box.right)}px`);
    const style = getComputedStyle(el);
    // Content wider than its box is either cut off (overflow hidden, an ellipsis) or spills over its edge.
    // Inline boxes and table parts measure no width of their own; a table in a scrolling frame may be wide.
    const boxless = (style.display.startsWith('inline') && style.display !== 'inline-block')
      || style.display.startsWith('table');
    const scrolling = ['auto', 'scroll'].includes(style.overflowX) || scrolls(el);
    if (!boxless && !scrolling && el.scrollWidth > el.clientWidth + 1 && el.textContent.trim())
      clipped.push(`${name(el)} cuts or spills "${el.textContent.trim().slice(0, 40)}"`);
    if (el.matches(field) && box.height >= maxField) tall.push(`${name(el)} is ${Math.round(box.height)}px tall`);
  }
  const header = document.querySelector('.topbar__inner').getBoundingClientRect().height;
  return {scrollWidth: document.scrollingElement.scrollWidth, width, outside, clipped, tall, header};
}"""


@dataclass
class Demo:
    url: str
    pages: dict[str, list[str]]  # by login


def _main_pages(slug: str) -> list[str]:
    """Every organization page a GET opens with nothing but the organization in its address."""
    prefix = "/o/<org_slug>"
    return sorted(
        rule.rule.replace("<org_slug>", slug)
        for rule in current_app.url_map.iter_rules()
        if rule.rule.startswith(prefix) and "GET" in rule.methods and not rule.arguments - {"org_slug"}
    )


def _demo(session: Session) -> dict[str, list[str]]:
    load_demo(session)
    client = session.scalars(select(Organization).where(Organization.name == CLIENT)).one()
    firm = session.scalars(select(Organization.slug).where(Organization.name == DEMO_CONSULTANCY)).one()
    with tenancy.tenant_context(session, client.id):
        # A decided cycle whose next bottleneck has a long title: its page names the follower in the side column.
        follower = session.scalars(select(Cycle).where(Cycle.previous_cycle_id.is_not(None)).order_by(Cycle.id)).first()
        follower.title = LONG_TITLE
        session.flush()
        decided = follower.previous_cycle_id
        scaled = session.scalars(select(Rollout.cycle_id).order_by(Rollout.id)).first()
    cycles = f"/o/{client.slug}/cycles"
    inside = [
        *_main_pages(client.slug),
        f"{cycles}/{decided}/",
        f"{cycles}/{decided}/measurements/",
        f"{cycles}/{scaled}/rollout/measurements/",
        f"/o/{client.slug}/todo?show=all&page=2",
        f"/o/{client.slug}/candidates/?page=2",
        "/todo",
        "/account/settings",
    ]
    return {OWNER: inside, CONSULTANT: [*inside, *_main_pages(firm), f"/o/{firm}/portfolio?page=2"]}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reminder_views, "PAGE_SIZE", 1)
        patch.setattr(consulting_views, "PAGE_SIZE", 1)
        patch.setattr(candidates, "OPEN_PAGE", 2)
        with live_app(tmp_path_factory.mktemp("layout"), _demo) as (url, pages):
            yield Demo(url=url, pages=pages)


def _shot_name(who: str, path: str, width: int) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
    return f"layout-{who.split('@')[0]}-{slug}-{width}.png"


@pytest.mark.parametrize("who", [OWNER, CONSULTANT], ids=["owner", "consultant"])
@pytest.mark.parametrize("width", WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def test_every_main_page_fits_the_screen(browser, demo, shots, who, width):
    faults: list[str] = []
    walked: list[str] = []
    with watched_page(browser, demo.url, width) as (page, watch):
        log_in(page, demo.url, who, DEMO_PASSWORD)
        for path in demo.pages[who]:
            # Downloads (the Excel export, a PDF) are no page; nor is what this role may not open.
            probe = page.request.head(f"{demo.url}{path}", max_redirects=0)
            if probe.status != 200 or "text/html" not in probe.headers.get("content-type", ""):
                continue
            page.goto(f"{demo.url}{path}")
            walked.append(path)
            found = page.evaluate(MEASURE, MAX_FIELD_HEIGHT)
            where = f"{path} at {width}px as {who}"
            if found["scrollWidth"] > width:
                faults.append(f"{where}: the page is {found['scrollWidth']}px wide")
            faults += [f"{where}: {fault}" for fault in found["outside"] + found["clipped"] + found["tall"]]
            if width >= 1280 and found["header"] > MAX_HEADER_HEIGHT:
                faults.append(f"{where}: the header is {found['header']:.0f}px tall, more than one row")
            if width < 1280:
                page.screenshot(path=shots / _shot_name(who, path, width), full_page=True)
            # The keyboard's first stop is the skip link, shown while it has the focus (a form that puts the
            # focus in its first field on purpose starts from there instead).
            if page.evaluate("document.activeElement !== document.body"):
                continue
            page.keyboard.press("Tab")
            focused = page.evaluate(
                "(() => { const el = document.activeElement, box = el.getBoundingClientRect();"
                " return [el.className, box.top >= 0 && box.right <= innerWidth]; })()"
            )
            if focused != ["skip-link", True]:
                faults.append(f"{where}: the first Tab reaches {focused}")
        assert watch.problems == []
    assert len(walked) >= 10 and any("/cycles/" in path and path[-2].isdigit() for path in walked), walked
    assert not faults, "\n".join(faults)

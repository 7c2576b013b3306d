"""The digest as an e-mail: both parts, the reader's language, no scripts or SVG, and how it looks."""

from dataclasses import replace
from datetime import date, timedelta

import pytest

from engpass import tenancy
from engpass.digest import content
from engpass.digest.mail import DigestPages, TodoLine, compose_digest
from engpass.i18n import today_in
from engpass.trends import service as trends
from engpass.trends.service import week_start
from tests.support.browser import assert_fits_a_phone
from tests.support.cycles import scaled_quoting_cycle

PAGES = DigestPages(dashboard="http://engpass.test/o/digest-gmbh/", todo="http://engpass.test/o/digest-gmbh/todo")
TODO = [
    TodoLine(
        "Angebote", "Es fehlt eine Messung seit 14 Tagen.", date(2026, 11, 20), "http://engpass.test/o/x/cycles/1"
    ),
]


@pytest.fixture
def week(session, make_user, make_org):
    owner = make_user(name="Sabine Müller")
    org = make_org("Digest GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        scaled_quoting_cycle(session, owner)
        trends.recompute(session, full=True)
        session.commit()
        first = week_start(today_in("Europe/Berlin"))
        digest = content.build(session, first, first + timedelta(days=6), owner.timezone)
    return owner, org, digest


def _compose(*args, **kwargs):
    """The digest as its reader's mail program sees it: written out as it goes on the wire, then read."""
    return compose_digest(*args, **kwargs).parsed()


def _parts(message):
    text, html = (part.get_content() for part in message.iter_parts())
    return text, html


def test_german_digest_has_both_parts_and_says_what_happened(app_context, week):
    owner, org, digest = week
    message = _compose(owner, org, digest, TODO, PAGES)
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["Subject"].startswith("Digest GmbH: Ihre Woche")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    text, html = _parts(message)
    for part in (text, html):
        assert "Hallo Sabine Müller" in part
        assert "Neuer Engpass benannt: Angebote" in part
        assert "Angebote entschieden: Skalieren" in part
        assert "Es fehlt eine Messung seit 14 Tagen." in part
        # The radar: the cycle was decided without a sponsor.
        assert "Warnsignale" in part and "Einsamer Experte" in part
        assert "Angebote: Kein Sponsor benannt." in part and "Benennen Sie einen Sponsor" in part
        assert PAGES.dashboard in part and PAGES.todo in part
        assert unsubscribe.replace("&", "&amp;") in part or unsubscribe in part
        assert "€" in part
    assert "<script" not in html.lower() and "<svg" not in html.lower()


def test_english_reader_gets_english(app_context, week, session):
    owner, org, digest = week
    owner.locale = "en"
    message = _compose(owner, org, digest, [], PAGES)
    text, _ = _parts(message)
    assert message["Subject"].startswith("Digest GmbH: your week")
    assert "New bottleneck named: Angebote" in text
    assert "Nothing is waiting for you" in text


def test_members_share_the_weeks_part_in_their_own_language(app_context, week, make_user, session):
    owner, org, digest = week
    org.name = "Müller & Söhne"
    reader = make_user(name="Ann Lee")
    reader.locale = "en"
    rendered: dict = {}
    german = _compose(owner, org, digest, TODO, PAGES, rendered=rendered)
    english = _compose(reader, org, digest, [], PAGES, rendered=rendered)
    again = _compose(owner, org, digest, [], PAGES, rendered=rendered)
    # Rendered once per language: the subject, the text and the HTML of the week.
    assert sorted(rendered) == sorted((part, lang) for part in ("subject", "txt", "html") for lang in ("de", "en"))
    assert german["Subject"] == again["Subject"] and german["Subject"].startswith("Müller & Söhne: Ihre Woche")
    assert english["Subject"].startswith("Müller & Söhne: your week")
    text, html = _parts(english)
    assert "Hello Ann Lee" in text and "New bottleneck named: Angebote" in text and "Nothing is waiting" in text
    assert "Müller &amp; Söhne" in html and "&amp;amp;" not in html, "escaped once, by the week's own template"
    text, html = _parts(again)
    assert "Hallo Sabine Müller" in text and "Neuer Engpass benannt: Angebote" in html
    assert "Es fehlt eine Messung" not in text, "the to-do list is the reader's own"


def test_the_quarters_question_goes_to_those_who_may_propose(app_context, week):
    from dataclasses import replace
    from decimal import Decimal

    owner, org, digest = week
    backlog = [content.BacklogLine("Angebote dauern", Decimal("67600.00")), content.BacklogLine("Reporting", None)]
    asked = replace(digest, asks_for_candidates=True, backlog=backlog)
    propose = "http://engpass.test/o/digest-gmbh/candidates/new"
    member_pages = replace(PAGES, propose=propose)
    text, html = _parts(_compose(owner, org, asked, [], member_pages))
    for part in (text, html):
        assert "Was bremst Sie am meisten?" in part and propose in part
        assert "Angebote dauern" in part and "67.600\xa0€ pro Jahr" in part.replace("&nbsp;", "\xa0")
        assert "Reporting" in part
    # Sent again for the same week: the same question (the signed links around it carry their own time).
    again, _html = _parts(_compose(owner, org, asked, [], member_pages))
    block = text[text.index("Was bremst Sie") : text.index(propose)]
    assert again[again.index("Was bremst Sie") : again.index(propose)] == block
    # A viewer, who may not propose, and every other week: no question.
    quiet = replace(digest, asks_for_candidates=False, backlog=[])
    for message in (_compose(owner, org, asked, [], PAGES), _compose(owner, org, quiet, [], member_pages)):
        assert all("Was bremst Sie" not in part for part in _parts(message))


def test_a_quiet_week_and_no_figures_yet_read_well(app_context, week):
    owner, org, digest = week
    empty = content.OrgDigest(week_start=digest.week_start, week_end=digest.week_end)
    text, html = _parts(_compose(owner, org, empty, [], PAGES))
    assert "Letzte Woche hat sich nichts geändert." in text
    assert "werden gerade berechnet" in html


def test_the_rendered_digest_in_a_real_browser(app_context, week, browser, shots):
    from tests.support.browser import png_size

    owner, org, digest = week
    _, html = _parts(_compose(owner, org, digest, TODO, PAGES))
    page = browser.new_page(viewport={"width": 700, "height": 900})
    try:
        page.set_content(html)
        assert page.locator("text=Was ist zu tun?").count() == 1
        assert page.locator("img, svg, script").count() == 0
        page.screenshot(path=shots / "digest-email.png", full_page=True)
    finally:
        page.close()
    width, height = png_size(shots / "digest-email.png")
    assert width == 700 and height > 600
    assert_fits_a_phone(browser, html, shots / "email-digest-375.png")


def test_titles_of_last_weeks_changes_are_escaped_in_the_html_part(app_context, week):
    owner, org, digest = week
    changes = [replace(change, cycle_title="<b>Angebote</b> & Co") for change in digest.changes]
    text, html = _parts(_compose(owner, org, replace(digest, changes=changes), [], PAGES))
    assert "Neuer Engpass benannt: <b>Angebote</b> & Co" in text
    assert "Neuer Engpass benannt: &lt;b&gt;Angebote&lt;/b&gt; &amp; Co" in html
    assert "<b>Angebote" not in html

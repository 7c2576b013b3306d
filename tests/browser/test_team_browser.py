"""The team page in a real browser, on a desk and on a phone: the list, an invitation, a role change."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.accounts.service import create_user, sign_up
from engpass.organizations.models import Membership, Role
from engpass.organizations.permissions import Action
from engpass.organizations.service import add_member
from engpass.team import service as team
from tests.support.browser import assert_fits, live_app, log_in, watched_page

EMAIL = "sabine@example.com"
PASSWORD = "sicheres-passwort-42"
WIDTHS = (1280, 375)


def _company(session: Session) -> str:
    owner, org = sign_up(session, name="Sabine Müller", email=EMAIL, password=PASSWORD, company="Müller Metallbau GmbH")
    for name, role in (("Jonas Weber", Role.member), ("Anna Schmidt", Role.admin), ("Petra Lang", Role.viewer)):
        user = create_user(session, f"{name.split()[0].lower()}@example.com", name, PASSWORD)
        add_member(session, org, user, role)
    with tenancy.tenant_context(session, org.id):
        mine = session.scalars(select(Membership).where(Membership.user_id == owner.id)).one()
        team.invite(session, org, mine, "neu.kollegin-mit-langer-adresse@example.com", Role.member)
    return org.slug


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    with live_app(tmp_path_factory.mktemp("team-browser"), _company) as served:
        yield served


@pytest.mark.parametrize("width", WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def test_the_team_page_lists_invites_and_changes_roles(browser, live_server, shots, width):
    url, slug = live_server
    with watched_page(browser, url, width) as (page, watch):
        log_in(page, url, EMAIL, PASSWORD)
        page.goto(f"{url}/o/{slug}/team/")
        assert page.locator("h1").inner_text() == "Team"
        assert page.locator(".mainnav a[aria-current=page]").inner_text() == "Team"
        assert page.locator("table.team tbody tr").count() >= 4
        page.click("#roles summary")  # who may do what: the matrix, opened
        assert page.locator("#roles tbody tr").count() == len(Action)
        assert_fits(page, width)
        page.screenshot(path=shots / f"team-{width}.png", full_page=True)

        page.fill("#invite input[name=email]", f"gast-{width}@example.com")
        page.select_option("#invite select[name=role]", "viewer")
        with page.expect_navigation():
            page.click("#invite button[type=submit]")
        assert f"gast-{width}@example.com" in page.locator(".alert--success").inner_text()
        assert (
            page.locator("#invitations").get_by_role("cell", name=f"gast-{width}@example.com", exact=True).count() == 1
        )

        row = page.locator("tr", has_text="Petra Lang")
        # Each width gives Petra another role: the server (and its data) is shared by both runs.
        role, label = {1280: ("member", "Mitglied"), 375: ("admin", "Administrator")}[width]
        row.locator("select[name=role]").select_option(role)
        with page.expect_navigation():
            row.locator("form.inline-form button").click()
        assert f"Petra Lang ist jetzt {label}." in page.locator(".alert--success").inner_text()
        assert_fits(page, width)
        page.screenshot(path=shots / f"team-after-{width}.png", full_page=True)
        assert not watch.problems, "\n".join(watch.problems)

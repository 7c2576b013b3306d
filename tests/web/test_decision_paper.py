"""The decision paper: two A4 pages for the management, the bank or a funding application, with the cycle
page's and the business case's figures, for whoever sees the cycle."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal

from pypdf import PdfReader
from sqlalchemy import select

from engpass import tenancy
from engpass.accounts.service import find_user
from engpass.audit.models import AuditEvent
from engpass.cycles import service as cycles
from engpass.cycles.models import Category, Cycle
from engpass.demo.data import DEMO_ORGS, DEMO_PASSWORD, load_demo
from engpass.i18n import today_in
from engpass.organizations.models import Organization, OrgKind, Role
from engpass.organizations.service import add_member
from engpass.rollouts.models import Reach, Rollout
from tests.support.cycles import (
    LEAD_SCORING_SHEET,
    SCALED_CYCLE_SHEET,
    SCALED_FORECAST_SHEET,
    lead_scoring_cycle,
    scaled_quoting_cycle,
    state_a_forecast,
)

LESSONS = {
    "lessons_worked": "Die Vorlage mit Kalkulationsblatt.",
    "lessons_failed": "Sonderanfertigungen passen nicht in die Vorlage.",
    "lessons_differently": "Den Vertrieb früher einbinden.",
}


def _url(org, cycle_id, query=""):
    return f"/o/{org.slug}/cycles/{cycle_id}/decision-paper.pdf{query}"


def _read(response):
    """The PDF's pages and its text, non-breaking spaces as plain ones and wrapped lines joined by a space."""
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, _words(text)


def _words(text):
    return " ".join(text.replace("\xa0", " ").replace("\u202f", " ").split())


def _page_text(response):
    assert response.status_code == 200
    return _words(re.sub(r"<[^>]+>", " ", response.text).replace("&amp;", "&"))


def _with_everything(session, org, cycle, sponsor, *, rollout=True):
    """Sabine's cycle with a sponsor, lessons, the team's forecast and, when asked, a rollout to 40 people at
    2,500 € once and 120 € a month."""
    with tenancy.tenant_context(session, org.id):
        cycle = session.get(Cycle, cycle.id)
        state_a_forecast(session, cycle, sponsor.id)
        cycle.sponsor_id = sponsor.id
        for name, text in LESSONS.items():
            setattr(cycle, name, text)
        if rollout:
            session.add(
                Rollout(
                    cycle_id=cycle.id,
                    reach=Reach.people,
                    target_description="Vertrieb an allen Standorten",
                    target_count=40,
                    one_off_cost=Decimal("2500.00"),
                    running_cost_per_month=Decimal("120.00"),
                    started_on=date(2026, 12, 1),
                    target_on=date(2027, 3, 1),
                )
            )
        session.commit()


# The rollout's cost and the payback at scale: (3,120 + 2,500) ÷ ((27,040 − 1,440) ÷ 52) = 11.4 weeks.
SCALING_SHEET = (
    "Kosten der Skalierung",
    "Rollout: 40 Personen · Vertrieb an allen Standorten · ab 01.12.2026 · bis 01.03.2027",
    "Kosten der Skalierung, einmalig 2.500 €",
    "120 € pro Monat × 12 = 1.440 €",
    "2.500 € einmalig + 1.440 € laufend = 3.940 €",
    "Amortisation mit Skalierung 11,4 Wochen",
    "(3.120 € Aufwand + 2.500 € Skalierung einmalig) ÷ ((27.040 € − 1.440 € Skalierung pro Jahr) ÷ 52 Arbeitswochen)"
    " = 11,4 Wochen",
)


def test_the_paper_has_the_pages_figures_on_two_pages(client, session, login, company_with_scaled_cycle):
    org, owner, admin, cycle = company_with_scaled_cycle
    _with_everything(session, org, cycle, owner)
    login(admin)
    response = client.get(_url(org, cycle.id))
    reader, text = _read(response)
    assert len(reader.pages) == 2
    # The business case's and the cycle page's figures, formatted alike: the same strings on the pages.
    print_page = _page_text(client.get(f"/o/{org.slug}/cycles/{cycle.id}/business-case/print"))
    cycle_page = _page_text(client.get(f"/o/{org.slug}/cycles/{cycle.id}/"))
    for expected in SCALED_CYCLE_SHEET + SCALED_FORECAST_SHEET:
        assert expected in print_page, expected
        assert expected in text, expected
    for expected in ("27.040 €", "−55,6 %", "6 Wochen", "58.440 €", "8,6 %", "3.120 €"):
        assert expected in cycle_page and expected in text, expected
    for expected in SCALING_SHEET:
        assert expected in text, expected
    first, second = (_words(page.extract_text()) for page in reader.pages)
    position = 0
    for heading in ("Was der Engpass kostet", "Was wir versucht haben", "Was wir gemessen haben", "Die Wirkung"):
        position = first.index(heading, position)
    assert "Messungen 1 · " in first and "9 Tage → 4 Tage" in first and "14 Std. → 6 Std." in first
    position = 0
    for heading in (
        "Kosten der Skalierung",
        "Amortisation",
        "Prognose und Ergebnis",
        "Erkenntnisse",
        "Die Entscheidung des Sponsors",
    ):
        position = second.index(heading, position)
    for lesson in LESSONS.values():
        assert lesson in second, lesson
    today = today_in("Europe/Berlin")
    assert f"Skalieren · Entschieden am {today:%d.%m.%Y} · Sponsor: Jürgen Müller" in second
    assert "Wirkt" in second and "Unterschrift des Sponsors" in second
    assert reader.metadata.title == "Entscheidungsvorlage: Angebote schneller"
    assert reader.metadata.author == "Müller Metallbau GmbH"

    name = f"{org.slug}-entscheidungsvorlage-angebote-schneller-{today.isoformat()}.pdf"
    assert response.headers["Content-Disposition"] == f"attachment; filename={name}"
    assert response.headers["Cache-Control"] == "private, no-store"
    with tenancy.tenant_context(session, org.id):
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "cycles.exported")).one()
    assert (event.actor_id, event.object_type, event.object_id) == (admin.id, "cycle", cycle.id)
    assert event.details == {"table": "decision_paper", "format": "pdf", "rows": 1}


def test_without_a_rollout_scaling_is_not_planned_and_the_payback_is_the_prototypes(
    client, session, login, company_with_scaled_cycle
):
    org, owner, _admin, cycle = company_with_scaled_cycle
    _with_everything(session, org, cycle, owner, rollout=False)
    login(owner)
    reader, text = _read(client.get(_url(org, cycle.id)))
    assert len(reader.pages) == 2
    assert "Kosten der Skalierung Noch nicht geplant." in text
    assert "3.120 € ÷ (27.040 € ÷ 52 Arbeitswochen) = 6 Wochen" in text
    assert "Amortisation mit Skalierung" not in text


def test_english_on_request_or_by_the_users_language(client, session, login, company_with_scaled_cycle, make_user):
    org, owner, _admin, cycle = company_with_scaled_cycle
    _with_everything(session, org, cycle, owner)
    login(owner)
    _reader, text = _read(client.get(_url(org, cycle.id, "?lang=en")))
    for expected in (
        "Decision paper",
        "What the bottleneck costs",
        "Savings per year",
        "€27,040",
        "−55.6%",
        "Payback with scaling 11.4 weeks",
        "(€3,120 effort + €2,500 scaling once) ÷ ((€27,040 − €1,440 scaling per year) ÷ 52 working weeks)",
        "Scale · Decided on",
        "Sponsor: Jürgen Müller",
        "Amounts in EUR",
    ):
        assert expected in text, expected
    assert "Entscheidung" not in text and "Beträge" not in text
    # A language it does not know is the user's.
    _reader, text = _read(client.get(_url(org, cycle.id, "?lang=fr")))
    assert "Entscheidungsvorlage" in text and "27.040 €" in text
    client.post("/logout")

    english = make_user(locale="en")
    add_member(session, org, english, Role.viewer)
    session.commit()
    login(english)
    _reader, text = _read(client.get(_url(org, cycle.id)))
    assert "Decision paper" in text and "€27,040" in text
    _reader, text = _read(client.get(_url(org, cycle.id, "?lang=de")))
    assert "Entscheidungsvorlage" in text and "27.040 €" in text


def test_viewers_download_it_strangers_and_missing_ids_get_404(
    client, session, login, company_with_scaled_cycle, make_user, make_org
):
    org, _owner, _admin, cycle = company_with_scaled_cycle
    viewer = make_user()
    add_member(session, org, viewer, Role.viewer)
    session.commit()
    login(viewer)
    _read(client.get(_url(org, cycle.id)))
    assert client.get(_url(org, 999_999)).status_code == 404
    client.post("/logout")

    stranger = make_user()
    other = make_org("Andere GmbH", owner=stranger)
    login(stranger)
    assert client.get(_url(other, cycle.id)).status_code == 404
    assert client.get(_url(org, cycle.id)).status_code == 404


def test_the_button_is_for_the_sponsor_and_the_owners(client, session, login, company_with_scaled_cycle, make_user):
    org, owner, admin, cycle = company_with_scaled_cycle
    page = f"/o/{org.slug}/cycles/{cycle.id}/"
    button = f'href="{_url(org, cycle.id)}" download>Entscheidungsvorlage (PDF)</a>'
    login(owner)
    assert button in client.get(page).text
    client.post("/logout")
    login(admin)
    assert button not in client.get(page).text
    with tenancy.tenant_context(session, org.id):
        session.get(Cycle, cycle.id).sponsor_id = admin.id
        session.commit()
    assert button in client.get(page).text


def test_a_cycle_without_a_result_says_what_is_missing(client, session, login, make_user, make_org):
    owner = make_user()
    org = make_org("Leer GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        cycle = cycles.create_cycle(
            session, title="Nur ein Name", category=Category.quoting, why="", owner_id=None, actor_id=owner.id
        )
        session.commit()
    login(owner)
    reader, text = _read(client.get(_url(org, cycle.id)))
    assert len(reader.pages) == 2
    assert "Der Ist-Zustand ist noch nicht beziffert" in text
    assert "Noch kein Ergebnis gemessen" in text
    assert "Braucht eine Messung des Ergebnisses." in text
    assert "Noch nicht geplant." in text and "Noch keine Erkenntnisse festgehalten." in text
    assert "Entscheidung offen · Sponsor: kein Sponsor benannt" in text
    assert "None" not in text


def test_the_longest_texts_still_fit_two_pages(client, session, login, make_user, make_org):
    owner = make_user(name="M" * 120)
    org = make_org("Lang GmbH & Co. KG <Test>", owner=owner)
    long_title = ("Angebote für Sonderanfertigungen schneller und verlässlicher schreiben " * 3)[:200]
    text = "Ein sehr langer Absatz mit vielen Wörtern, der nicht aufhört. " * 80
    with tenancy.tenant_context(session, org.id):
        cycle = scaled_quoting_cycle(session, owner, title=long_title)
        for days_ago in range(1, 9):
            measured = {
                "measured_on": date.today() - timedelta(days=days_ago * 2),
                "kpi_value": Decimal(9 - days_ago / 2),
                "hours_per_week": Decimal(13),
            }
            cycles.add_measurement(session, cycle, measured, owner.id)
        cycle.why = cycle.solution_what = cycle.decision_reason = text
        cycle.lessons_worked = cycle.lessons_failed = cycle.lessons_differently = text
        cycle.kpi_name = "K" * 120
        cycle.kpi_unit = "U" * 40
        cycle.sponsor_id = owner.id
        session.add(
            Rollout(
                cycle_id=cycle.id,
                reach=Reach.sites,
                target_description="S" * 300,
                target_count=12,
                one_off_cost=Decimal("99999.99"),
                running_cost_per_month=Decimal("4000.00"),
                started_on=date.today(),
            )
        )
        session.commit()
    login(owner)
    reader, pdf_text = _read(client.get(_url(org, cycle.id)))
    assert len(reader.pages) == 2
    assert "Angebote für Sonderanfertigungen" in pdf_text and "…" in pdf_text
    assert "Lang GmbH & Co. KG <Test>" in pdf_text
    # Each long text shortened: the why, the solution, the reason and three lessons.
    assert pdf_text.count("nicht aufhört") < 60


def test_every_demo_cycle_gets_exactly_two_pages(client, session, login):
    load_demo(session)
    session.commit()
    checked = 0
    for spec in DEMO_ORGS:
        org = session.scalars(select(Organization).where(Organization.name == spec.name)).one()
        if org.kind != OrgKind.company:
            continue
        owner = find_user(session, spec.members[0][0])
        with tenancy.tenant_context(session, org.id):
            cycle_ids = session.scalars(select(Cycle.id).order_by(Cycle.id)).all()
        login(owner, DEMO_PASSWORD)
        for cycle_id in cycle_ids:
            reader, text = _read(client.get(_url(org, cycle_id)))
            assert len(reader.pages) == 2, (org.name, cycle_id)
            assert "None" not in text
            checked += 1
        client.post("/logout")
    assert checked >= 12


def test_the_paper_asks_as_many_queries_however_many_measurements(
    client, session, login, company_with_scaled_cycle, count_queries
):
    org, owner, _admin, cycle = company_with_scaled_cycle
    _with_everything(session, org, cycle, owner)
    login(owner)
    url = _url(org, cycle.id)
    assert client.get(url).status_code == 200
    with count_queries() as few:
        assert client.get(url).status_code == 200
    with tenancy.tenant_context(session, org.id):
        for days_ago in range(1, 10):
            measured = {"measured_on": date.today() - timedelta(days=days_ago), "kpi_value": Decimal(5)}
            cycles.add_measurement(session, session.get(Cycle, cycle.id), measured, owner.id)
        session.commit()
    with count_queries() as many:
        assert client.get(url).status_code == 200
    assert many.count == few.count, many.statements


def test_an_effect_that_is_not_hours_shows_its_additional_contribution(client, session, login, make_user, make_org):
    owner = make_user()
    org = make_org("Vertrieb GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        cycle = lead_scoring_cycle(session, owner)
        session.commit()
    login(owner)
    reader, text = _read(client.get(_url(org, cycle.id)))
    assert len(reader.pages) == 2
    first = _words(reader.pages[0].extract_text())
    for expected in LEAD_SCORING_SHEET:
        assert expected in text, expected
    assert "Zusätzlicher Deckungsbeitrag pro Jahr 16.200 €" in first and "Entscheidung offen" in first

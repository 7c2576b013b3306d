"""The cycle page is bounded however many measurements a cycle has: the latest few with a link to all of them,
a paged list of all, a chart of a bounded number of points, the same queries for 3 and 300 measurements, and
figures from all of them, not from what is shown."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import refresh

from engpass import tenancy
from engpass.charts import downsample
from engpass.cycles.business_case import compute
from engpass.cycles.chart import CHART_POINTS
from engpass.cycles.measurement_reads import LATEST_SHOWN, PAGE_SIZE, chart_sample
from engpass.cycles.models import Cycle, Measurement
from engpass.rollouts import measurement_reads as rollout_reads
from engpass.rollouts import service as rollouts
from engpass.rollouts.figures import scale_case
from engpass.rollouts.models import Reach, Rollout, RolloutMeasurement
from tests.support.cycles import scaled_quoting_cycle

ROW = re.compile(r'<td class="nowrap measuretable__date">')
POINT = 'class="chart__point"'


def _text(response) -> str:
    return response.get_data(as_text=True).replace("\xa0", " ")


def _get(client, url: str):
    refresh()
    return client.get(url)


@pytest.fixture
def world(session, make_user, make_org, login):
    """Sabine's scaled quoting cycle with its one measurement (today, 4 days), signed in as its owner."""
    owner = make_user(name="Sabine Müller")
    org = make_org("Müller Metallbau GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        cycle_id = scaled_quoting_cycle(session, owner).id
        session.commit()
    login(owner)
    return owner, org, cycle_id


def _add(session, org, cycle_id: int, count: int, value=lambda i: Decimal(5 + i % 3)) -> None:
    """``count`` more measurements written directly, one a day before the cycle's measurement of today,
    each older than the last; ``value(i)`` the KPI of the i-th."""
    with tenancy.tenant_context(session, org.id):
        already = session.query(Measurement).filter_by(cycle_id=cycle_id).count()
        session.add_all(
            Measurement(
                cycle_id=cycle_id,
                measured_on=date.today() - timedelta(days=already + i),
                kpi_value=value(i),
                hours_per_week=Decimal(8),
            )
            for i in range(count)
        )
        session.commit()


def _count(client, count_queries, url: str) -> int:
    _get(client, url)  # warm up: the first request of a test loads the session, the catalog …
    refresh()
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200
    return counter.count


def _charts(page: str) -> list[str]:
    return page.split('class="chart__svg chart__svg--')[1:3]


def test_the_cycle_page_reads_as_many_queries_and_shows_as_many_rows_for_3_as_for_300(
    client, session, world, count_queries
):
    _owner, org, cycle_id = world
    url = f"/o/{org.slug}/cycles/{cycle_id}/"
    _add(session, org, cycle_id, 2)
    small = _count(client, count_queries, url)
    few = _text(_get(client, url))
    assert len(ROW.findall(few)) == 3
    assert "Alle 3 Messungen" not in few and "/measurements/" not in few.split('id="result"')[1].split("</table>")[1]

    _add(session, org, cycle_id, 297)
    assert _count(client, count_queries, url) == small
    many = _text(_get(client, url))
    assert len(ROW.findall(many)) == LATEST_SHOWN
    assert f"Die neuesten {LATEST_SHOWN} von 300 Messungen." in many
    assert f'href="/o/{org.slug}/cycles/{cycle_id}/measurements/">Alle 300 Messungen</a>' in many
    # The newest first: today's measurement (4 Tage) heads the table.
    assert ROW.split(many)[1].split("</tr>")[0].count("<strong>4</strong> Tage") == 1
    # Every figure still reads the latest measurement of all: 4 days against the baseline of 9.
    assert "9 Tage − 4 Tage" in many or "−55,6 %" in many
    assert "300 Messungen vom" in many


def test_the_chart_draws_a_bounded_number_of_points_keeping_the_first_last_lowest_and_highest(client, session, world):
    _owner, org, cycle_id = world
    # 999 older ones between 5 and 7 days, one lowest (1) and one highest (30) in the middle of them.
    _add(session, org, cycle_id, 999, lambda i: Decimal(1 if i == 401 else 30 if i == 602 else 5 + i % 3))
    page = _text(_get(client, f"/o/{org.slug}/cycles/{cycle_id}/"))
    for svg in _charts(page):
        points = re.findall(r'<circle class="chart__point"[^>]*><title>([^<]+)</title>', svg)
        assert 4 <= len(points) <= CHART_POINTS
        days = [point.split(":")[0] for point in points]
        first = (date.today() - timedelta(days=999)).strftime("%d.%m.%Y")
        assert days[0] == first and days[-1] == date.today().strftime("%d.%m.%Y")
        values = [point.split(": ")[1] for point in points]
        assert "1 Tage" in values and "30 Tage" in values
        # The description counts every measurement, not the drawn ones.
        assert "1000 Messungen vom" in svg


def test_the_list_of_all_measurements_pages_newest_first(client, session, world):
    _owner, org, cycle_id = world
    total = 2 * PAGE_SIZE + 7
    _add(session, org, cycle_id, total - 1)
    url = f"/o/{org.slug}/cycles/{cycle_id}/measurements/"

    first = _text(_get(client, url))
    assert len(ROW.findall(first)) == PAGE_SIZE
    assert f"Messungen 1 bis {PAGE_SIZE} von {total}, neueste zuerst." in first
    assert "Seite 1 von 3" in first and f'href="{url}?page=2">Ältere</a>' in first and "Neuere" not in first
    assert first.index(date.today().strftime("%d.%m.%Y")) < first.index(
        (date.today() - timedelta(days=1)).strftime("%d.%m.%Y")
    )

    second = _text(_get(client, f"{url}?page=2"))
    assert len(ROW.findall(second)) == PAGE_SIZE
    assert f'href="{url}">Neuere</a>' in second and f'href="{url}?page=3">Ältere</a>' in second

    last = _text(_get(client, f"{url}?page=3"))
    assert len(ROW.findall(last)) == 7
    assert "Seite 3 von 3" in last and "Ältere" not in last and f'href="{url}?page=2">Neuere</a>' in last
    oldest = (date.today() - timedelta(days=total - 1)).strftime("%d.%m.%Y")
    assert oldest in last and oldest not in first

    # Past the last page: the last page, so a link kept from before a deletion still lands.
    beyond = _text(_get(client, f"{url}?page=9"))
    assert "Seite 3 von 3" in beyond and len(ROW.findall(beyond)) == 7
    for bad in ("0", "-1", "x", "2.5", "", "١", "9" * 12):
        assert _get(client, f"{url}?page={bad}").status_code == 404, bad


def test_the_list_reads_as_many_queries_for_any_page(client, session, world, count_queries):
    _owner, org, cycle_id = world
    url = f"/o/{org.slug}/cycles/{cycle_id}/measurements/"
    small = _count(client, count_queries, url)
    _add(session, org, cycle_id, 3 * PAGE_SIZE)
    assert _count(client, count_queries, url) == small
    assert _count(client, count_queries, f"{url}?page=3") == small


def test_a_measurement_deleted_from_the_list_returns_to_its_page(client, session, world):
    _owner, org, cycle_id = world
    _add(session, org, cycle_id, PAGE_SIZE + 5)
    url = f"/o/{org.slug}/cycles/{cycle_id}/measurements/"
    page = _text(_get(client, f"{url}?page=2"))
    delete = re.findall(r'action="([^"]+/delete)"', page)[0]
    assert 'name="page" value="2"' in page
    refresh()
    response = client.post(delete, data={"page": "2"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{url}?page=2")
    refresh()
    # Without a page (from the cycle page) it goes back to the cycle page.
    delete = re.findall(r'action="([^"]+/delete)"', _text(_get(client, url)))[0]
    response = client.post(delete)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cycles/{cycle_id}/#result")
    with tenancy.tenant_context(session, org.id):
        session.expire_all()
        assert session.query(Measurement).filter_by(cycle_id=cycle_id).count() == PAGE_SIZE + 4
    # The edit link of a listed row opens the measurement's form.
    edit = re.findall(r'href="([^"]+/edit)"', _text(_get(client, url)))[0]
    assert _get(client, edit).status_code == 200


def test_another_organization_gets_404_for_the_list(client, session, world, make_user, make_org):
    _owner, org, cycle_id = world
    stranger = make_user(name="Fremd")
    theirs = make_org("Fremde AG", owner=stranger)
    with tenancy.tenant_context(session, theirs.id):
        their_cycle = scaled_quoting_cycle(session, stranger, title="Geheim").id
        session.commit()
    assert _get(client, f"/o/{org.slug}/cycles/{their_cycle}/measurements/").status_code == 404
    assert _get(client, f"/o/{theirs.slug}/cycles/{their_cycle}/measurements/").status_code == 404
    assert _get(client, f"/o/{org.slug}/cycles/{cycle_id}/measurements/").status_code == 200


def test_the_cycle_page_and_the_list_in_english(client, session, world):
    owner, org, cycle_id = world
    owner.locale = "en"
    session.commit()
    _add(session, org, cycle_id, PAGE_SIZE)
    cycle_page = _text(_get(client, f"/o/{org.slug}/cycles/{cycle_id}/"))
    assert f"The latest {LATEST_SHOWN} of {PAGE_SIZE + 1} measurements." in cycle_page
    assert f"All {PAGE_SIZE + 1} measurements" in cycle_page
    page = _text(_get(client, f"/o/{org.slug}/cycles/{cycle_id}/measurements/"))
    assert "All measurements" in page and ">Older</a>" in page and "Page 1 of 2" in page
    assert f"Measurements 1 to {PAGE_SIZE} of {PAGE_SIZE + 1}, newest first." in page


def test_the_chart_sample_chosen_in_the_database_is_the_downsampling_of_all_measurements(session, world):
    _owner, org, cycle_id = world
    # Many equal lowest and highest values: the database must pick the same first ones as Python.
    _add(session, org, cycle_id, 700, lambda i: Decimal(i % 7))
    with tenancy.tenant_context(session, org.id):
        cycle = session.get(Cycle, cycle_id)
        every = list(cycle.measurements)
        sample = chart_sample(session, cycle, len(every))
        expected = downsample(every, CHART_POINTS, lambda m: float(m.kpi_value))
        assert [m.id for m in sample] == [m.id for m in expected]
        assert len(sample) <= CHART_POINTS


# --- the rollout panel ------------------------------------------------------------------------------


def _open_rollout(session, org, owner, cycle_id: int, days_ago: int = 250) -> int:
    with tenancy.tenant_context(session, org.id):
        cycle = session.get(Cycle, cycle_id)
        data = {"reach": Reach.people, "target_count": 40, "started_on": date.today() - timedelta(days=days_ago)}
        rollout = rollouts.save_rollout(session, cycle, data, owner.id)
        session.commit()
        return rollout.id


def _rollout_measurements(session, org, rollout_id: int, count: int, start: int = 0) -> None:
    """Measurements spread over the 200 days after the start, several on a day and inside each checkpoint's
    window, some with the number reached only, some with an effect only."""
    with tenancy.tenant_context(session, org.id):
        rollout = session.get(Rollout, rollout_id)
        session.add_all(
            RolloutMeasurement(
                rollout_id=rollout_id,
                measured_on=rollout.started_on + timedelta(days=(i * 7) % 200),
                reached=i if i % 4 else None,
                kpi_value=Decimal(4 + i % 5) if i % 3 else None,
                hours_per_week=Decimal(5 + i % 2) if i % 5 == 1 else None,
                note="",
            )
            for i in range(start, start + count)
        )
        session.commit()


def _panel(page: str) -> str:
    return page.split('id="rollout"')[1]


def test_the_rollout_panel_shows_the_latest_few_with_the_same_queries_for_3_and_300(
    client, session, world, count_queries
):
    owner, org, cycle_id = world
    rollout_id = _open_rollout(session, org, owner, cycle_id)
    _rollout_measurements(session, org, rollout_id, 3)
    url = f"/o/{org.slug}/cycles/{cycle_id}/"
    small = _count(client, count_queries, url)
    assert len(ROW.findall(_panel(_text(_get(client, url))))) == 3

    _rollout_measurements(session, org, rollout_id, 297, start=3)
    assert _count(client, count_queries, url) == small
    panel = _panel(_text(_get(client, url)))
    assert len(ROW.findall(panel)) == rollout_reads.LATEST_SHOWN
    assert f"Die neuesten {rollout_reads.LATEST_SHOWN} von 300 Messungen." in panel
    assert f'href="/o/{org.slug}/cycles/{cycle_id}/rollout/measurements/">Alle 300 Messungen</a>' in panel


def test_the_figures_at_scale_from_the_rows_they_read_are_those_from_all(session, world):
    owner, org, cycle_id = world
    rollout_id = _open_rollout(session, org, owner, cycle_id)
    _rollout_measurements(session, org, rollout_id, 300)
    with tenancy.tenant_context(session, org.id):
        cycle = session.get(Cycle, cycle_id)
        rollout = session.get(Rollout, rollout_id)
        case_ = compute(cycle, list(cycle.measurements), Decimal(50), 46)
        rows = rollout_reads.figure_rows(session, rollout)
        assert len(rows) < 300
        everything = scale_case(cycle, rollout, case_, Decimal(50), 46, date.today())
        assert scale_case(cycle, rollout, case_, Decimal(50), 46, date.today(), rows) == everything
        assert everything.reached is not None and all(c.measurement is not None for c in everything.checkpoints)


def test_the_list_of_all_rollout_measurements_pages_and_is_404_elsewhere(client, session, world, make_user, make_org):
    owner, org, cycle_id = world
    url = f"/o/{org.slug}/cycles/{cycle_id}/rollout/measurements/"
    assert _get(client, url).status_code == 404  # no rollout opened yet
    rollout_id = _open_rollout(session, org, owner, cycle_id)
    _rollout_measurements(session, org, rollout_id, PAGE_SIZE + 3)
    first = _text(_get(client, url))
    assert len(ROW.findall(first)) == PAGE_SIZE and f'href="{url}?page=2">Ältere</a>' in first
    last = _text(_get(client, f"{url}?page=2"))
    assert len(ROW.findall(last)) == 3 and "Seite 2 von 2" in last and f'href="{url}">Neuere</a>' in last
    assert 'name="page" value="2"' in last
    delete = re.findall(r'action="([^"]+/delete)"', last)[0]
    refresh()
    response = client.post(delete, data={"page": "2"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{url}?page=2")
    assert _get(client, f"{url}?page=x").status_code == 404

    stranger = make_user(name="Fremd")
    theirs = make_org("Fremde AG", owner=stranger)
    with tenancy.tenant_context(session, theirs.id):
        their_cycle = scaled_quoting_cycle(session, stranger, title="Geheim").id
        session.commit()
    _open_rollout(session, theirs, stranger, their_cycle)
    assert _get(client, f"/o/{org.slug}/cycles/{their_cycle}/rollout/measurements/").status_code == 404
    assert _get(client, f"/o/{theirs.slug}/cycles/{their_cycle}/rollout/measurements/").status_code == 404

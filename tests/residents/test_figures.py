"""Figures for dashboards: satisfaction rate (each case counted once, by its latest answer
from the resident or a callback) and callback coverage, per area and period."""

from datetime import date, datetime

import pytest
from django.utils import timezone

from residents import callbacks, services
from residents.models import CallbackTask
from residents.selectors import area_figures, callback_coverage, satisfaction_rate
from tests.residents.conftest import SH, handle_to_close, report

pytestmark = pytest.mark.django_db

OCT = (date(2026, 10, 1), date(2026, 10, 31))
API = "/api/v1/residents/figures/"


def at(month, day, hour=10):
    return datetime(2026, month, day, hour, tzinfo=SH)


@pytest.fixture
def scene(world):
    """Street 1: A (grid 1) satisfied, B (its micro-grid) basically, C (grid 2) unsatisfied
    then "satisfied" on the callback; street 2: D unsatisfied, not reached on the callback."""
    from grids.models import Area

    g2 = Area.objects.get(code="500103001001G02")
    cases = {}
    plan = [("A", world.grid, "satisfied"), ("B", world.micro, "basically_satisfied"),
            ("C", g2, "unsatisfied"), ("D", world.other_grid, "unsatisfied")]  # fmt: skip
    for n, (name, area, answer) in enumerate(plan):
        world.at(at(10, 5 + n, 8))
        filed = report(world, area, phone=f"1380000000{n}")
        handle_to_close(world, filed.case, closed_at=at(10, 5 + n, 15))
        world.at(at(10, 5 + n, 18))
        services.rating_submit(report=filed, satisfaction=answer, comment="意见")
        cases[name] = filed.case
    world.at(at(11, 1, 2))
    callbacks.callback_draw_month(month=date(2026, 10, 1))
    world.at(at(11, 2))
    street = world.u("street")
    callbacks.callback_record(task=CallbackTask.objects.get(case=cases["C"]), actor=street,
                             reached=True, settled=True, satisfaction="satisfied")  # fmt: skip
    callbacks.callback_record(task=CallbackTask.objects.get(case=cases["D"]),
                             actor=world.u("district"), reached=False)  # fmt: skip
    return cases


def test_the_satisfaction_rate_counts_each_case_once_by_its_latest_answer(world, scene):
    assert satisfaction_rate(world.street, *OCT) == pytest.approx(2 / 3)
    assert satisfaction_rate(None, *OCT) == pytest.approx(2 / 4)
    # Over October and November C's callback ("satisfied") replaces its rating.
    assert satisfaction_rate(None, date(2026, 10, 1), date(2026, 11, 30)) == pytest.approx(3 / 4)
    assert satisfaction_rate(world.grid, *OCT) == pytest.approx(1.0)  # A and B
    assert satisfaction_rate(world.micro, *OCT) == pytest.approx(1.0)  # B
    assert satisfaction_rate(world.other_grid, *OCT) == 0.0


@pytest.mark.parametrize("period", [OCT, (date(2026, 10, 1), date(2026, 11, 30))])
def test_the_counted_rate_agrees_with_the_per_area_figures_everywhere(world, scene, period):
    """satisfaction_rate counts in SQL; area_figures (the callback pages) in Python: the same
    rule must give the same number for every area and period."""
    for area in (None, world.street, world.grid, world.micro, world.other_grid):
        expected = area_figures(area, *period)["total"].satisfaction_rate
        assert satisfaction_rate(area, *period) == pytest.approx(expected)


def test_the_counted_rate_takes_a_case_once_and_its_latest_answer_in_one_query(
    world, scene, django_assert_num_queries
):
    # C: rated unsatisfied in October, called back "satisfied" in November.
    with django_assert_num_queries(1):
        assert satisfaction_rate(world.street, date(2026, 11, 1), date(2026, 11, 30)) == 1.0
    assert satisfaction_rate(world.street, date(2026, 9, 1), date(2026, 9, 30)) is None


def test_dates_are_whole_local_days_and_datetimes_are_half_open(world, scene):
    # A was rated on 5 October at 18:00 local time (10:00 UTC).
    assert satisfaction_rate(world.grid, date(2026, 10, 5), date(2026, 10, 5)) == 1.0
    start = timezone.make_aware(datetime(2026, 10, 5, 18, 0), SH)
    assert satisfaction_rate(world.grid, start, start) is None
    assert satisfaction_rate(world.grid, start, at(10, 6)) == 1.0


def test_callback_coverage_is_residents_reached_over_cases_closed(world, scene):
    assert callback_coverage(world.street, *OCT) == pytest.approx(1 / 3)
    assert callback_coverage(None, *OCT) == pytest.approx(1 / 4)  # D was not reached
    assert callback_coverage(world.other_grid, *OCT) == 0.0
    assert callback_coverage(world.street, date(2026, 9, 1), date(2026, 9, 30)) is None


def test_area_figures_break_down_by_the_areas_below(world, scene):
    from grids.models import Area

    district = Area.objects.get(code="500103")
    result = area_figures(district, *OCT, children=True)
    total = result["total"].as_dict()
    assert total == {
        "answered": 4, "satisfied": 1, "basically_satisfied": 1, "unsatisfied": 2,
        "satisfaction_rate": 0.5, "closed": 4, "callbacks_drawn": 2, "called_back": 1,
        "callback_coverage": 0.25,
    }  # fmt: skip
    streets = {kid.code: f.as_dict() for kid, f in result["children"]}
    assert list(streets) == ["500103001", "500103002", "500103003"]
    assert streets["500103001"]["answered"] == 3 and streets["500103001"]["closed"] == 3
    assert streets["500103002"]["satisfaction_rate"] == 0.0
    assert streets["500103003"]["satisfaction_rate"] is None
    grids = {k.code: f for k, f in area_figures(world.community, *OCT, children=True)["children"]}
    assert (grids["500103001001G01"].answered, grids["500103001001G02"].answered) == (2, 1)
    assert grids["500103001001D1"].answered == 0
    micro = {k.code: f for k, f in area_figures(world.grid, *OCT, children=True)["children"]}
    assert micro["500103001001G01M01"].answered == 1  # B; A was filed on the grid itself


# --- the API ------------------------------------------------------------------------------------


def test_the_api_gives_an_areas_figures_and_its_children(
    client, world, scene, django_assert_max_num_queries
):
    client.force_login(world.u("street"))
    query = {"area": world.street.pk, "from": "2026-10-01", "to": "2026-10-31"}
    with django_assert_max_num_queries(9):
        response = client.get(API, query)
    assert response.status_code == 200
    body = response.json()
    assert body["area"]["code"] == "500103001" and body["period_from"] == "2026-10-01"
    assert body["figures"]["satisfaction_rate"] == pytest.approx(0.6667)
    assert body["figures"]["callback_coverage"] == pytest.approx(0.3333)
    names = [c["area"]["name"] for c in body["children"]]
    assert names == ["民生路社区", "五一路社区", "新华路社区"]
    assert body["children"][0]["figures"]["answered"] == 3


def test_the_api_defaults_to_this_month(client, world, scene):
    client.force_login(world.u("street"))
    body = client.get(API, {"area": world.street.pk}).json()
    assert (body["period_from"], body["period_to"]) == ("2026-11-01", "2026-11-02")
    assert body["figures"]["answered"] == 1  # C's callback on 2 November


def test_system_wide_users_may_leave_out_the_area(client, world, scene):
    client.force_login(world.u("admin"))
    body = client.get(API, {"from": "2026-10-01", "to": "2026-10-31"}).json()
    assert body["area"] is None and body["figures"]["answered"] == 4


@pytest.mark.parametrize(
    ("query", "field"),
    [({}, "area"), ({"area": "999999"}, "area"), ({"area": "x"}, "area"),
     ({"from": "2026-13-01"}, "from"), ({"to": "yesterday"}, "to"),
     ({"from": "2026-10-31", "to": "2026-10-01"}, "from"),
     ({"from": "2020-01-01", "to": "2026-10-01"}, "from")],
)  # fmt: skip
def test_bad_queries_get_400_with_field_errors(client, world, query, field):
    client.force_login(world.u("street"))
    if query and "area" not in query:
        query = {"area": world.street.pk, **query}
    response = client.get(API, query)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_an_area_outside_ones_scope_is_refused(client, world):
    client.force_login(world.u("gridworker2"))
    response = client.get(API, {"area": world.street.pk})
    assert response.status_code == 400 and "area" in response.json()["errors"]


def test_anonymous_callers_are_refused(client, world):
    assert client.get(API, {"area": world.street.pk}).status_code in (401, 403)

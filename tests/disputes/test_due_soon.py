""" "Due soon" (即将超时): a case whose deadline is in its warning window now. The badge on the
case list and the case page (clock.due_soon, in Python), the filter `due_soon=1` on the
list, the API and the export (clock.annotate_due_soon, in SQL) and the dashboard's count
agree on every case, with no more queries than before.

Same scenario and people as test_sla_engine.py; the policy warns at 75 % of each limit and
asks for a progress note every 7 days."""

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from dashboards import stats
from dashboards.periods import period_for
from disputes import selectors, services
from disputes.models import Case, Outcome
from sla import clock
from sla.models import SlaPolicy
from tests.disputes.test_sla_engine import DAY, HOUR, T0, World, assign_case, file, progress
from tests.disputes.test_warnings import warnings_on

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(T0, tick=False)


@pytest.fixture
def world():
    w = World()
    warnings_on(w, progress_every_days=7, pause_for_judicial_review=True)
    return w


def in_sql(now, qs=None) -> set[int]:
    qs = clock.annotate_due_soon(qs if qs is not None else Case.objects.all(), now)
    return set(qs.filter(sla_due_soon=True).values_list("pk", flat=True))


def in_python(now) -> set[int]:
    cases = Case.objects.select_related("sla_policy", "sla_check")
    return {case.pk for case in cases if clock.due_soon(case, now)}


def random_history(w: World, rng: random.Random, time_machine, n: int) -> Case:
    """A case filed at a random time, taken a random way through the workflow."""
    at = T0 + timedelta(hours=rng.uniform(0, 30 * 24))
    time_machine.move_to(at)
    case = file(w, cause=f"纠纷{n}")

    def later(low: float, high: float) -> bool:
        nonlocal at
        at += timedelta(hours=rng.uniform(low, high))
        time_machine.move_to(at)
        return rng.random() < 0.75

    if later(1, 30):
        case = assign_case(w, case)
        if later(1, 40):
            case = progress(w, case)
            if later(24, 24 * 12):
                case = progress(w, case)
            roll = rng.random()
            if roll < 0.25 and later(24, 24 * 20):
                case = services.case_pause_clock(case=case, actor=w.mediator, note="司法确认")
                if later(24, 24 * 20):
                    case = services.case_resume_clock(case=case, actor=w.mediator, note="已确认")
            elif roll < 0.45 and later(24, 24 * 20):
                case = services.case_resolve(case=case, actor=w.mediator, outcome=Outcome.AGREEMENT)
                case = services.case_close(case=case, actor=w.secretary)
            elif roll < 0.65 and later(24 * 10, 24 * 25):
                days = rng.randint(3, 20)
                if clock.extend(case.sla_policy, case.close_due_at, days) > timezone.now():
                    request = services.extension_request(
                        case=case, actor=w.mediator, days=days, reason="等待鉴定"
                    )
                    services.extension_decide(extension=request, actor=w.street, approve=True)
    elif rng.random() < 0.3 and later(1, 10):
        case = services.case_escalate(case=case, actor=w.secretary, reason="跨社区")
    return case


def random_world(time_machine, seed: int, cases: int = 24) -> World:
    """The scenario's people, warnings on, and `cases` cases each taken a random way."""
    w = World()
    warnings_on(w, progress_every_days=7, pause_for_judicial_review=True)
    rng = random.Random(seed)
    for n in range(cases):
        random_history(w, rng, time_machine, n)
    return w


def test_the_filter_and_the_badge_agree_on_random_cases_at_any_moment(world, time_machine):
    rng = random.Random(20260302)
    for n in range(40):
        random_history(world, rng, time_machine, n)
    district = world.district
    seen = set()
    for hours in range(0, 60 * 24, 5):
        now = T0 + timedelta(hours=hours, minutes=rng.randint(0, 59))
        assert in_sql(now) == in_python(now), now
        listed = selectors.case_list(user=district, filters={"due_soon": True, "now": now})
        assert set(listed.values_list("pk", flat=True)) == in_sql(now)
        seen |= in_sql(now)
    # The histories reach the warning window of every kind of deadline, and not every case.
    soon_reasons = {
        reason
        for hours in range(0, 60 * 24, 5)
        for case in Case.objects.select_related("sla_policy", "sla_check")
        for reason in clock.due_soon(case, T0 + timedelta(hours=hours))
    }
    assert soon_reasons == {"not_assigned", "not_handled", "past_close", "no_progress"}
    assert len(seen) >= 10


# --- the list page, the case page, the API -------------------------------------------------------


def three_cases(w: World, time_machine):
    """At T0 + 20 h: `soon` waits for assignment (warned at 18 h, due at 24 h), `fresh` was
    filed at 10 h (warned at 28 h), `done` was assigned and handled."""
    soon = file(w, cause="漏水：即将超时")
    done = progress(w, assign_case(w, file(w, cause="漏水：已处置")))
    time_machine.move_to(T0 + 10 * HOUR)
    fresh = file(w, cause="漏水：刚立案")
    time_machine.move_to(T0 + 20 * HOUR)
    return soon, fresh, done


def test_the_list_shows_the_badge_and_filters_what_is_due_soon(client, world, time_machine):
    soon, fresh, done = three_cases(world, time_machine)
    client.force_login(world.secretary)

    page = client.get(reverse("disputes:list")).content.decode()
    assert page.count('data-due-soon="1"') == 1
    assert "分派即将超时" in page and "只看即将超时" in page

    filtered = client.get(reverse("disputes:list"), {"due_soon": "1"}).content.decode()
    assert soon.number in filtered
    assert fresh.number not in filtered and done.number not in filtered
    checked = client.get(reverse("disputes:list"), {"due_soon": "on"}).content.decode()
    assert checked.count("data-case=") == 1


def test_the_case_page_says_what_is_due_soon_and_when_progress_is_due(client, world, time_machine):
    case = progress(world, assign_case(world, file(world)))
    time_machine.move_to(T0 + 6 * DAY)  # the progress note is due at 7 days, warned at 5.25
    client.force_login(world.mediator)
    page = client.get(reverse("disputes:detail", args=[case.pk])).content.decode()
    assert 'data-due-soon="1"' in page and "进展记录即将超时" in page
    assert 'data-testid="progress-due"' in page and "2026-03-09 09:00" in page


def test_the_api_filters_due_soon_and_names_the_deadline(world, time_machine):
    soon, _fresh, _done = three_cases(world, time_machine)
    api = APIClient()
    api.force_authenticate(world.secretary)

    body = api.get("/api/v1/cases/", {"due_soon": "1"}).json()
    assert [row["number"] for row in body["results"]] == [soon.number]
    assert body["results"][0]["sla"]["due_soon"] == ["not_assigned"]
    assert body["results"][0]["sla"]["due_soon_labels"] == ["分派即将超时"]
    everything = api.get("/api/v1/cases/", {"due_soon": "false"}).json()
    assert everything["count"] == 3
    detail = api.get(f"/api/v1/cases/{soon.pk}/").json()
    assert detail["sla"]["due_soon"] == ["not_assigned"]


def test_the_export_filters_due_soon_too(client, world, time_machine):
    soon, _fresh, _done = three_cases(world, time_machine)
    client.force_login(world.secretary)
    response = client.get(reverse("dashboard:export"), {"due_soon": "1"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert soon.number in body and body.count("JF2026-") == 1


# --- no more queries ----------------------------------------------------------------------------


def queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params or {}).status_code == 200
    return len(captured)


@pytest.mark.parametrize("count", [2, 12])
def test_the_list_with_badges_costs_no_more_queries(
    client, world, time_machine, django_assert_max_num_queries, count
):
    for _ in range(count):
        file(world)
    time_machine.move_to(T0 + 20 * HOUR)  # every one of them due soon: badges on every row
    client.force_login(world.street)
    plain = queries(client, reverse("disputes:list"))
    with django_assert_max_num_queries(plain):
        page = client.get(reverse("disputes:list"), {"due_soon": "1"})
    assert page.content.decode().count('data-due-soon="1"') == count
    with django_assert_max_num_queries(12):  # the list's bound (test_pages.py)
        client.get(reverse("disputes:list"))
    api = APIClient()
    api.force_authenticate(world.street)
    with django_assert_max_num_queries(4):  # the API list's bound (test_api.py)
        assert api.get("/api/v1/cases/", {"due_soon": "1"}).json()["count"] == count


def test_the_list_costs_the_same_however_many_rows_are_due_soon(client, world, time_machine):
    for _ in range(2):
        file(world)
    time_machine.move_to(T0 + 20 * HOUR)
    client.force_login(world.street)
    few = queries(client, reverse("disputes:list"))
    time_machine.move_to(T0)
    for _ in range(10):
        file(world)
    time_machine.move_to(T0 + 20 * HOUR)
    assert queries(client, reverse("disputes:list")) == few


# --- the dashboard ------------------------------------------------------------------------------


def test_the_dashboard_counts_what_the_filter_lists(client, world, time_machine):
    three_cases(world, time_machine)
    period = period_for(None, None)
    summary = stats.summary(area=None, period=period, now=timezone.now())
    assert summary["due_soon"] == len(in_sql(timezone.now())) == 1
    assert summary["due_24h"] == 3 - 1  # the API's due_within_24h: done's closing is later

    client.force_login(world.district)
    page = client.get(reverse("dashboard:index")).content.decode()
    assert 'data-figure="due_soon">1<' in page
    assert "due_soon=1" in page
    api = APIClient()
    api.force_authenticate(world.district)
    opened = api.get("/api/v1/stats/summary/").json()["open"]
    assert (opened["due_soon"], opened["due_within_24h"]) == (1, 2)


def test_a_policy_that_warns_of_nothing_puts_nothing_in_the_window(world, time_machine):
    SlaPolicy.objects.filter(pk=world.policy.pk).update(warn_at_percent=0, warn_hours_before=0)
    file(world)
    time_machine.move_to(T0 + 23 * HOUR)
    assert in_sql(timezone.now()) == in_python(timezone.now()) == set()

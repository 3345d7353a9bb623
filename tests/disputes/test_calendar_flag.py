"""A case whose working-day deadlines fall in a year the holiday calendar does not cover
says so on its page, until the year is entered; entering it moves those deadlines onto the
year's real working days."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from disputes import services
from disputes.models import Case, CaseEvent
from disputes.signals import estimated_deadlines
from grids.holiday_notice import NoticeDay
from grids.models import CalendarYear
from grids.services_calendar import calendar_year_import
from grids.workdays import place_estimate
from sla.models import SlaPolicy, TimeBasis
from tests.dashboards.test_health import World
from tests.factories import SuperuserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(time_machine):
    time_machine.move_to(datetime(2026, 12, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    case = World().file()
    policy = SlaPolicy.objects.create(code="wd", name="工作日", time_basis=TimeBasis.WORKDAYS)
    Case.objects.filter(pk=case.pk).update(sla_policy=policy)
    return case


def test_a_working_day_deadline_in_an_uncovered_year_is_flagged(client, case):
    client.force_login(SuperuserFactory())
    url = reverse("disputes:detail", args=[case.pk])

    page = client.get(url)

    assert page.context["estimated_years"] == [2027]
    assert 'data-testid="deadline-estimated"' in page.content.decode()
    CalendarYear.objects.create(year=2027, source="notice")
    assert 'data-testid="deadline-estimated"' not in client.get(url).content.decode()


def test_natural_time_deadlines_are_never_flagged(client, case):
    Case.objects.filter(pk=case.pk).update(sla_policy=None)
    client.force_login(SuperuserFactory())
    assert client.get(reverse("disputes:detail", args=[case.pk])).context["estimated_years"] == []


# --- the year filled in: estimated deadlines placed on its real working days ----------------

SH = ZoneInfo("Asia/Shanghai")
NEW_YEAR_2027 = [NoticeDay(date(2027, 1, d), False, "元旦") for d in (1, 2, 3)]


@pytest.fixture
def ten_day_case(time_machine):
    """Filed on Friday 25 December 2026 at 10:00 under ten working days: 2027 was not known,
    so 1 January counted as a working day and the deadline landed on 8 January."""
    time_machine.move_to(datetime(2026, 12, 25, 10, 0, tzinfo=SH), tick=False)
    SlaPolicy.objects.create(
        code="wd10", name="10个工作日", time_basis=TimeBasis.WORKDAYS, close_within_days=10,
        priority=10,
    )  # fmt: skip
    case = World().file()
    assert case.close_due_at == datetime(2027, 1, 8, 10, 0, tzinfo=SH)
    return case


def import_2027(days=NEW_YEAR_2027):
    return calendar_year_import(year=2027, days=days, source="notice", actor=None)


def test_filling_in_the_year_moves_its_estimated_deadlines_once(
    ten_day_case, celery_eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = import_2027()

    assert result.recompute_queued
    case = Case.objects.get(pk=ten_day_case.pk)
    assert case.close_due_at == datetime(2027, 1, 11, 10, 0, tzinfo=SH)  # 1 January off
    assert case.assign_due_at == ten_day_case.assign_due_at  # in 2026: never an estimate
    # Warned when three quarters of each limit have passed: the closing warning moved with
    # its deadline (a quarter of ten days before it); the assignment's comes first.
    assert case.sla_check.warn_close_at == case.close_due_at - timedelta(days=2.5)
    assert case.sla_check.next_check_at == case.assign_due_at - timedelta(hours=6)
    event = case.events.get(kind=CaseEvent.Kind.DEADLINES_PLACED)
    assert event.actor is None and "2027" in event.note
    assert event.data == {"close_due_at": {"from": "2027-01-08T10:00:00+08:00",
                                           "to": "2027-01-11T10:00:00+08:00"}}  # fmt: skip

    # A corrected re-import: deadlines are real ones now, and stay where they are.
    with django_capture_on_commit_callbacks(execute=True):
        again = import_2027([*NEW_YEAR_2027, NoticeDay(date(2027, 1, 4), False, "元旦")])
    assert not again.recompute_queued
    assert Case.objects.get(pk=case.pk).close_due_at == datetime(2027, 1, 11, 10, 0, tzinfo=SH)
    assert case.events.filter(kind=CaseEvent.Kind.DEADLINES_PLACED).count() == 1


def test_a_deadline_changed_after_the_import_is_left_where_it_was_put(ten_day_case):
    import_2027()  # queued on commit, which this test's transaction never reaches
    snapshot = estimated_deadlines(2027)
    extended = datetime(2027, 1, 20, 10, 0, tzinfo=SH)  # e.g. an extension meanwhile
    Case.objects.filter(pk=ten_day_case.pk).update(close_due_at=extended)

    assert services.deadlines_place_estimates(year=2027, snapshot=snapshot) == 0
    assert Case.objects.get(pk=ten_day_case.pk).close_due_at == extended


def test_a_closed_case_keeps_its_deadlines(ten_day_case):
    import_2027()
    snapshot = estimated_deadlines(2027)
    Case.objects.filter(pk=ten_day_case.pk).update(
        status="closed", closed_at=ten_day_case.filed_at, outcome="failed", close_kind="procedural"
    )
    assert services.deadlines_place_estimates(year=2027, snapshot=snapshot) == 0


@pytest.mark.parametrize(
    "estimate, placed",
    [
        # The 3rd weekday of 2027 (Tue 5 Jan) becomes the 3rd working day (Wed 6 Jan).
        (datetime(2027, 1, 5, 9, 0, tzinfo=SH), datetime(2027, 1, 6, 9, 0, tzinfo=SH)),
        # A Saturday keeps its day after the weekday before it: Fri 8 (6th) → Mon 11, so
        # Sat 9 → Tue 12.
        (datetime(2027, 1, 9, 12, 0, tzinfo=SH), datetime(2027, 1, 12, 12, 0, tzinfo=SH)),
        # On Friday 1 January (a weekday to the estimate): the 1st working day, Mon 4 Jan.
        (datetime(2027, 1, 1, 15, 0, tzinfo=SH), datetime(2027, 1, 4, 15, 0, tzinfo=SH)),
    ],
)
def test_an_estimate_is_placed_on_the_same_working_day_of_the_year(estimate, placed):
    import_2027()
    assert place_estimate(estimate) == placed

"""A case whose working-day deadlines fall in a year the holiday calendar does not cover
says so on its page, until the year is entered."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from disputes.models import Case
from grids.models import CalendarYear
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

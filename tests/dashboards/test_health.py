"""SLA health for operators: sweep lag, breaches recorded in the last hour, the outbox backlog
and open cases by colour: `health_figures`, the staff page and `manage.py sla_status`."""

import json
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from dashboards.health import health_figures
from disputes import services
from disputes.models import Case, CaseEvent, Category, Channel, HandlingLevel
from disputes.sweep import sla_sweep_step
from disputes.tasks import sla_sweep
from grids.models import CalendarYear, Role
from notifications.models import Notification, OutboxMessage
from sla.models import SlaPolicy
from tests.factories import SuperuserFactory, Tree, UserFactory, assign

pytestmark = pytest.mark.django_db

HOUR, DAY, SECOND = timedelta(hours=1), timedelta(days=1), timedelta(seconds=1)
# Tomorrow 09:00 in Chongqing: outside the email/SMS quiet hours, after "now".
T0 = (datetime.now(ZoneInfo("Asia/Shanghai")) + DAY).replace(
    hour=9, minute=0, second=0, microsecond=0
)


class World:
    def __init__(self):
        self.tree = tree = Tree()
        parent = Category.objects.create(code="02", name="邻里纠纷")
        self.category = Category.objects.create(
            code="0203", name="房屋漏水", parent=parent,
            default_handling_level=HandlingLevel.COMMUNITY,
        )  # fmt: skip
        self.area = tree.grids[0]
        self.worker = UserFactory()
        assign(self.worker, Role.GRID_WORKER, tree.grids[0])
        self.secretary = UserFactory()
        assign(self.secretary, Role.COMMUNITY_SECRETARY, tree.communities[0])
        self.mediator = UserFactory()
        assign(self.mediator, Role.MEDIATOR, tree.communities[0])

    def file(self, cause="漏水") -> Case:
        return services.case_file(
            actor=self.worker, area=self.area, category=self.category, cause=cause,
            address="民生路12号", channel=Channel.GRID_WORKER,
            parties=[{"side": "applicant", "name": "李秀英"}],
        )  # fmt: skip

    def assign(self, case) -> Case:
        return services.case_assign(case=case, mediator=self.mediator, actor=self.secretary)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(T0, tick=False)
    return time_machine


@pytest.fixture
def world(clock):
    # These tests are about the sweep; the calendar's own warning has its tests in
    # tests/grids/test_calendar_admin.py. Whatever year T0 is, the next one is "entered".
    CalendarYear.objects.create(year=T0.year + 1, source="notice")
    # And about deadlines: no warnings before them, no progress limit (tests/disputes/
    # test_warnings.py and test_progress_limit.py).
    SlaPolicy.objects.update(warn_at_percent=0, progress_every_days=0)
    return World()


@pytest.fixture
def late(world, clock):
    """Three cases whose next checks are due and one that is not, with no sweep run:
    A not assigned (due T0+24h), B not handled (due T0+25h), C not assigned (due T0+26h),
    D filed later (due T0+27h); the clock stops at T0+26h30m."""
    a = world.file("A")
    b = world.file("B")
    clock.shift(HOUR)
    b = world.assign(b)
    clock.shift(HOUR)
    c = world.file("C")
    clock.shift(HOUR)
    d = world.file("D")
    clock.move_to(T0 + 26 * HOUR + 30 * 60 * SECOND, tick=False)
    # Filing and assigning told people (hand-offs, tested in test_handoffs.py); the outbox
    # figures here count only what each test queues.
    Notification.objects.all().delete()
    return {"a": a, "b": b, "c": c, "d": d}


def test_it_reports_the_sweep_lag_from_the_oldest_due_check(world, late):
    health = health_figures()

    assert health["oldest_due_at"] == T0 + 24 * HOUR
    assert health["sweep_lag"] == timedelta(hours=2, minutes=30)
    assert health["breaches_last_hour"] == 0


def test_it_reports_no_lag_when_no_check_is_due(world, clock):
    world.file()
    clock.shift(23 * HOUR)

    health = health_figures()

    assert health["oldest_due_at"] is None
    assert health["sweep_lag"] == timedelta(0)


def test_it_counts_breaches_recorded_in_the_last_hour_and_clears_the_lag(world, late, clock):
    sla_sweep_step()

    health = health_figures()
    assert health["breaches_last_hour"] == 3  # A, B and C, each once
    assert health["sweep_lag"] == timedelta(0)

    clock.shift(HOUR)
    assert health_figures()["breaches_last_hour"] == 3
    clock.shift(SECOND)
    assert health_figures()["breaches_last_hour"] == 0


def test_it_counts_breaches_by_when_they_were_recorded_not_by_their_deadline(world, clock):
    world.file()
    # The workers were down for three days: the breach is stamped at its true deadline
    # (T0+24h) but was recorded just now, and that is what the health page is about.
    clock.shift(3 * DAY)
    sla_sweep_step()

    breach = CaseEvent.objects.get(kind=CaseEvent.Kind.SLA_BREACH)
    assert breach.at == T0 + 24 * HOUR
    assert health_figures()["breaches_last_hour"] == 1


def _outbox(world, *, status="pending", not_before=None, channel="sms"):
    notification = Notification.objects.create(recipient=world.secretary, kind="t", title="t")
    return OutboxMessage.objects.create(
        notification=notification, channel=channel, address="13800000000", status=status,
        not_before=not_before or T0,
    )  # fmt: skip


def test_it_counts_the_messages_waiting_to_leave(world, clock):
    for _ in range(3):
        _outbox(world)
    _outbox(world, not_before=T0 + HOUR)  # held back by quiet hours: not late yet
    _outbox(world, status="sent")
    _outbox(world, status="failed")
    _outbox(world, status="sending")

    assert health_figures()["outbox_backlog"] == 3
    clock.shift(HOUR)
    assert health_figures()["outbox_backlog"] == 4


def test_it_counts_open_cases_by_colour_from_the_clock(world, clock):
    world.file("red")
    clock.shift(29 * DAY)
    world.assign(world.file("orange: not handled"))
    closed = world.assign(world.file("closed"))
    closed = services.case_progress(case=closed, actor=world.mediator, note="上门")
    closed = services.case_resolve(case=closed, actor=world.mediator, outcome="agreement")
    services.case_close(case=closed, actor=world.secretary)  # the check passed
    clock.shift(DAY + HOUR)
    world.file("green")

    health = health_figures()

    assert health["open_by_colour"] == {"red": 1, "orange": 1, "green": 1}
    assert health["open_total"] == 3


def test_it_counts_a_case_whose_clock_is_paused_as_green(world, clock):
    SlaPolicy.objects.create(
        code="judicial", name="司法确认期间暂停", category=world.category,
        pause_for_judicial_review=True,
    )  # fmt: skip
    case = services.case_progress(case=world.assign(world.file()), actor=world.mediator, note="x")
    services.case_pause_clock(case=case, actor=world.mediator, note="已申请司法确认")
    world.file("late")
    clock.shift(31 * DAY)

    assert health_figures()["open_by_colour"] == {"red": 1, "orange": 0, "green": 1}


# --- the page ---------------------------------------------------------------------------------


def test_it_shows_the_health_numbers_to_staff(client, world, late):
    for _ in range(2):
        _outbox(world)
    client.force_login(SuperuserFactory())

    response = client.get(reverse("sla_health"))

    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-seconds="9000"' in body  # 2 h 30 min
    assert 'data-testid="breaches-last-hour">0<' in body
    assert 'data-testid="outbox-backlog">2<' in body
    assert 'data-testid="open-total">4<' in body
    assert response.context["health"]["open_by_colour"] == {"red": 0, "orange": 3, "green": 1}
    assert f"{reverse('disputes:list')}?colour=orange&amp;sort=sla" in body


def test_it_links_staff_to_the_health_page(client, world):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)

    items = client.get(reverse("home")).context["nav_items"]

    assert reverse("sla_health") in [item["url"] for item in items]


def test_it_refuses_the_health_page_to_non_staff(client, world):
    client.force_login(world.secretary)

    assert client.get(reverse("sla_health")).status_code == 403
    assert reverse("sla_health") not in [
        item["url"] for item in client.get(reverse("home")).context["nav_items"]
    ]


def test_it_sends_anonymous_visitors_of_the_health_page_to_the_login(client, world):
    response = client.get(reverse("sla_health"))

    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_it_renders_the_health_page_with_a_fixed_number_of_queries(
    client, world, late, django_assert_max_num_queries
):
    client.force_login(SuperuserFactory())
    # session, user, scope, unread badge, instructions banner, lag, breaches, backlog,
    # colours, last sweep, calendar years
    with django_assert_max_num_queries(11):
        assert client.get(reverse("sla_health")).status_code == 200


# --- the command ------------------------------------------------------------------------------


def test_it_prints_the_health_numbers(world, late):
    out = StringIO()

    call_command("sla_status", stdout=out)

    text = out.getvalue()
    assert "sweep lag:                9000 s" in text
    assert "breaches in the last hour: 0" in text
    assert "open cases:               4 (red 0, orange 3, green 1)" in text


def test_it_prints_the_health_numbers_as_json(world, late):
    sla_sweep_step()
    out = StringIO()

    call_command("sla_status", "--json", stdout=out)

    data = json.loads(out.getvalue())
    assert data["sweep_lag_seconds"] == 0 and data["oldest_due_at"] is None
    assert data["breaches_last_hour"] == 3
    assert data["open_by_colour"] == {"red": 0, "orange": 3, "green": 1}
    assert data["outbox_backlog"] == OutboxMessage.objects.filter(status="pending").count()


def test_it_fails_when_the_sweep_is_further_behind_than_allowed(world, late):
    call_command("sla_status", "--max-lag", "9000", stdout=StringIO())

    with pytest.raises(CommandError, match="9000 s behind"):
        call_command("sla_status", "--max-lag", "8999", stdout=StringIO())


# --- for the centres, and whether the sweep runs at all ------------------------------------------


def test_it_shows_street_centre_staff_the_health_page_in_chinese(client, world):
    street = UserFactory()
    assign(street, Role.STREET_STAFF, world.tree.streets[0])
    client.force_login(street)

    response = client.get(reverse("sla_health"))

    assert response.status_code == 200
    assert "时限" in response.content.decode()
    assert reverse("sla_health") in [i["url"] for i in response.context["nav_items"]]


def test_it_refuses_a_grid_worker_with_a_chinese_message(client, world):
    client.force_login(world.worker)

    response = client.get(reverse("sla_health"))

    assert response.status_code == 403
    assert "仅供中心工作人员和管理员查看" in response.content.decode()


def test_it_turns_red_until_a_sweep_has_run_and_after_three_quiet_minutes(
    client, world, clock, time_machine
):
    client.force_login(SuperuserFactory())
    body = client.get(reverse("sla_health")).content.decode()
    assert 'data-testid="sweep-stale"' in body and "从未运行" in body

    sla_sweep()  # the task body, as the worker runs it
    health = client.get(reverse("sla_health")).context["health"]
    assert not health["sweep_stale"]
    assert health["last_sweep"].finished_at == timezone.now()

    time_machine.shift(timedelta(minutes=3, seconds=1))
    body = client.get(reverse("sla_health")).content.decode()
    assert 'data-testid="sweep-stale"' in body and "以来时限巡检未运行" in body

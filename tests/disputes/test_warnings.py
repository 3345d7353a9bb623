"""Warnings before deadlines (即将超时): each deadline warned once, stamped at its true
warning time, and told to whoever must act; never when the step was done before its warning
time; warned again when the deadline moves later (an extension, a resumed clock, a new
level after escalation); once through overlapping sweeps and an outage; on PostgreSQL, once
with two sweeps at the same moment.

Same scenario and people as test_sla_engine.py; the policy warns when 75 % of each limit
has passed (6 h before a 24 h step, 7.5 days before the 30-day closing deadline) and sets no
progress limit (test_progress_limit.py)."""

import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from disputes import services
from disputes.models import Case, CaseEvent
from disputes.sweep import SweepResult, sla_sweep_step
from notifications.models import Notification
from sla import clock
from sla.models import SlaCheck, SlaPolicy
from tests.conftest import service_missing
from tests.disputes.test_sla_engine import (
    DAY,
    HOUR,
    T0,
    World,
    assign_case,
    file,
    progress,
)
from tests.disputes.test_sla_engine_races import WAIT, Actor
from tests.disputes.test_sla_engine_sweep import build

pytestmark = pytest.mark.django_db

K = CaseEvent.Kind
MINUTE = timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(T0, tick=False)


def warnings_on(w: World, **fields) -> SlaPolicy:
    """The world's policy with warnings (75 % unless told) and whatever else is given."""
    values = {"warn_at_percent": 75, "warn_hours_before": 0, "progress_every_days": 0}
    SlaPolicy.objects.filter(pk=w.policy.pk).update(**(values | fields))
    w.policy = SlaPolicy.objects.get(pk=w.policy.pk)
    return w.policy


@pytest.fixture
def world():
    w = World()
    warnings_on(w)
    return w


def warnings(case: Case | None = None) -> list[tuple[str, datetime]]:
    events = CaseEvent.objects.filter(kind=K.SLA_WARNING).order_by("at", "id")
    if case is not None:
        events = events.filter(case=case)
    return [(e.data["reason"], e.at) for e in events]


def breaches(case: Case) -> list[tuple[str, datetime]]:
    events = case.events.filter(kind=K.SLA_BREACH).order_by("at", "id")
    return [(e.data["reason"], e.at) for e in events]


def told(kind: str) -> Counter:
    notices = Notification.objects.filter(kind=kind)
    return Counter(notices.values_list("recipient__username", flat=True))


def check_of(case: Case) -> SlaCheck:
    return SlaCheck.objects.get(case=case)


# --- once, at the warning time, to whoever must act ------------------------------------------


def test_it_records_a_warning_once_at_the_warning_time_and_tells_the_assigners(world, time_machine):
    case = file(world)
    check = check_of(case)
    assert (check.warn_assign_at, check.next_check_at) == (T0 + 18 * HOUR, T0 + 18 * HOUR)
    assert check.warn_close_at == T0 + 30 * DAY - 7.5 * DAY
    Notification.objects.all().delete()  # the hand-off of the filing

    time_machine.move_to(T0 + 18 * HOUR)  # at the warning time to the second: not yet
    assert sla_sweep_step().checked == 0
    time_machine.shift(MINUTE)
    result = sla_sweep_step()

    assert (result.checked, result.warnings, result.breaches) == (1, 1, 0)
    [event] = case.events.filter(kind=K.SLA_WARNING)
    assert (event.at, event.recorded_at, event.actor) == (
        T0 + 18 * HOUR,
        T0 + 18 * HOUR + MINUTE,
        None,
    )
    assert event.data["reason"] == "not_assigned"
    assert datetime.fromisoformat(event.data["deadline"]) == T0 + 24 * HOUR
    assert (event.note, event.get_kind_display()) == ("分派即将超时", "即将超时")
    assert told("sla_warn_not_assigned") == {"secretary": 1}
    [note] = Notification.objects.filter(kind="sla_warn_not_assigned")
    assert note.title == f"分派即将超时：{case.number}"
    check = check_of(case)
    assert check.warned_assign and check.next_check_at == T0 + 24 * HOUR  # now the deadline

    again = sla_sweep_step()
    time_machine.shift(HOUR)
    later = sla_sweep_step()
    assert (again.checked, later.checked) == (0, 0)
    assert warnings(case) == [("not_assigned", T0 + 18 * HOUR)]
    assert Notification.objects.count() == 1


def test_it_tells_the_mediator_of_handling_and_closing_deadlines(world, time_machine):
    case = assign_case(world, file(world))  # first handling due T0 + 24 h, warned at T0 + 18 h
    Notification.objects.all().delete()
    time_machine.move_to(T0 + 19 * HOUR)
    sla_sweep_step()
    case = progress(world, case)
    time_machine.move_to(T0 + 23 * DAY)
    sla_sweep_step()

    assert warnings(case) == [("not_handled", T0 + 18 * HOUR), ("past_close", T0 + 22.5 * DAY)]
    assert told("sla_warn_not_handled") == {"mediator": 1}
    assert told("sla_warn_past_close") == {"mediator": 1}


def test_it_records_each_warning_once_through_overlapping_sweeps_and_a_three_day_outage(
    world, time_machine
):
    waiting = file(world)
    assigned = assign_case(world, file(world))
    Notification.objects.all().delete()
    time_machine.move_to(T0 + 3 * DAY)  # no sweep ran since the filing

    first, second = sla_sweep_step(), sla_sweep_step()

    assert (first.warnings, first.breaches, second.checked) == (2, 2, 0)
    # Each stamped at its true time: the warning, then the deadline it warned of.
    assert warnings(waiting) == [("not_assigned", T0 + 18 * HOUR)]
    assert breaches(waiting) == [("not_assigned", T0 + 24 * HOUR)]
    assert warnings(assigned) == [("not_handled", T0 + 18 * HOUR)]
    assert breaches(assigned) == [("not_handled", T0 + 24 * HOUR)]
    assert {e.recorded_at for e in CaseEvent.objects.filter(kind=K.SLA_WARNING)} == {T0 + 3 * DAY}
    # A warning whose deadline has passed is evidence only: the breach is what is told.
    assert not Notification.objects.filter(kind__startswith="sla_warn_").exists()
    assert told("sla_not_assigned") == {"secretary": 1}


# --- not when done in time; again when the deadline moves -----------------------------------


def test_it_does_not_warn_of_a_step_done_before_its_warning_time(world, time_machine):
    case = file(world)
    time_machine.move_to(T0 + 17 * HOUR)
    case = assign_case(world, case)  # before the 18 h warning
    time_machine.move_to(T0 + 20 * HOUR)
    case = progress(world, case)  # first handling due T0 + 41 h, warned at T0 + 35 h
    assert check_of(case).next_check_at == T0 + 22.5 * DAY  # only the closing warning left

    for day in (1, 2, 10, 22):
        time_machine.move_to(T0 + day * DAY)
        assert sla_sweep_step().warnings == 0
    assert warnings(case) == []


def test_it_warns_again_before_the_deadline_an_extension_moved(world, time_machine):
    case = progress(world, assign_case(world, file(world)))
    time_machine.move_to(T0 + 23 * DAY)
    sla_sweep_step()
    request = services.extension_request(
        case=case, actor=world.mediator, days=10, reason="等待鉴定"
    )
    services.extension_decide(extension=request, actor=world.street, approve=True)

    check = check_of(case)
    assert (check.warned_close, check.warn_close_at) == (False, T0 + 32.5 * DAY)
    assert check.next_check_at == T0 + 32.5 * DAY
    time_machine.move_to(T0 + 32 * DAY)
    assert sla_sweep_step().warnings == 0
    time_machine.move_to(T0 + 33 * DAY)
    assert sla_sweep_step().warnings == 1

    assert warnings(case) == [("past_close", T0 + 22.5 * DAY), ("past_close", T0 + 32.5 * DAY)]
    second = case.events.filter(kind=K.SLA_WARNING).last()
    assert datetime.fromisoformat(second.data["deadline"]) == T0 + 40 * DAY
    assert told("sla_warn_past_close") == {"mediator": 2}


def test_it_keeps_a_warning_when_an_extension_leaves_the_deadline_as_near(world, time_machine):
    case = progress(world, assign_case(world, file(world)))
    time_machine.move_to(T0 + 29 * DAY)
    sla_sweep_step()
    request = services.extension_request(case=case, actor=world.mediator, days=1, reason="补充材料")
    services.extension_decide(extension=request, actor=world.street, approve=True)
    # 31 days, warned at 23.5 days: that time has passed, and the mediator knows already.
    time_machine.move_to(T0 + 30 * DAY + HOUR)
    assert sla_sweep_step().warnings == 0
    assert warnings(case) == [("past_close", T0 + 22.5 * DAY)]


def test_it_records_a_warning_the_sweep_missed_before_an_extension_moves_its_deadline(
    world, time_machine
):
    case = progress(world, assign_case(world, file(world)))
    Notification.objects.all().delete()
    time_machine.move_to(T0 + 23 * DAY)  # the sweep is down
    request = services.extension_request(
        case=case, actor=world.mediator, days=10, reason="等待鉴定"
    )
    services.extension_decide(extension=request, actor=world.street, approve=True)

    assert warnings(case) == [("past_close", T0 + 22.5 * DAY)]  # kept, at its true time
    assert not Notification.objects.filter(kind__startswith="sla_warn_").exists()
    time_machine.move_to(T0 + 33 * DAY)
    sla_sweep_step()
    assert warnings(case)[-1] == ("past_close", T0 + 32.5 * DAY)


def test_it_warns_again_at_the_level_a_case_is_escalated_to(world, time_machine):
    case = file(world)
    time_machine.move_to(T0 + 19 * HOUR)
    sla_sweep_step()
    case = services.case_escalate(case=case, actor=world.secretary, reason="涉及多个社区")
    assert check_of(case).warn_assign_at == T0 + 19 * HOUR + 18 * HOUR
    time_machine.move_to(T0 + 38 * HOUR)
    sla_sweep_step()

    assert warnings(case) == [("not_assigned", T0 + 18 * HOUR), ("not_assigned", T0 + 37 * HOUR)]
    assert told("sla_warn_not_assigned") == {"secretary": 1, "street": 1}


def test_it_warns_of_a_paused_deadline_only_once_its_clock_runs_again(world, time_machine):
    SlaPolicy.objects.filter(pk=world.policy.pk).update(pause_for_judicial_review=True)
    case = progress(world, assign_case(world, file(world)))
    time_machine.move_to(T0 + 20 * DAY)
    case = services.case_pause_clock(case=case, actor=world.mediator, note="已申请司法确认")
    assert check_of(case).next_check_at is None
    time_machine.move_to(T0 + 45 * DAY)
    assert sla_sweep_step().checked == 0
    case = services.case_resume_clock(case=case, actor=world.mediator, note="法院已确认")
    assert case.close_due_at == T0 + 55 * DAY
    assert check_of(case).next_check_at == T0 + 47.5 * DAY

    time_machine.move_to(T0 + 48 * DAY)
    sla_sweep_step()
    assert warnings(case) == [("past_close", T0 + 47.5 * DAY)]


# --- the policy's settings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("percent", "hours", "assign_warned_at", "close_warned_at"),
    [
        (75, 0, T0 + 18 * HOUR, T0 + 22.5 * DAY),
        (75, 12, T0 + 12 * HOUR, T0 + 22.5 * DAY),  # whichever is earlier
        (50, 240, T0, T0 + 15 * DAY),  # never before the limit starts
        (0, 2, T0 + 22 * HOUR, T0 + 30 * DAY - 2 * HOUR),  # by hours only
        (0, 0, None, None),  # no warnings
    ],
)
def test_it_warns_at_the_earlier_of_the_share_and_the_hours(
    world, percent, hours, assign_warned_at, close_warned_at
):
    warnings_on(world, warn_at_percent=percent, warn_hours_before=hours)
    check = check_of(file(world))
    assert (check.warn_assign_at, check.warn_close_at) == (assign_warned_at, close_warned_at)
    assert check.next_check_at == (assign_warned_at or T0 + 24 * HOUR)


def test_it_warns_a_case_no_policy_fits_at_the_built_in_75_percent(world):
    SlaPolicy.objects.update(is_active=False)
    case = file(world)
    assert case.sla_policy is None
    assert check_of(case).warn_assign_at == T0 + 18 * HOUR


# --- two sweeps at once (PostgreSQL) -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_records_each_warning_once_when_two_sweeps_run_at_once(transactional_db, celery_eager):
    if connection.vendor != "postgresql":
        service_missing("sweep race tests need PostgreSQL (set DATABASE_URL)")
    w = World()
    warnings_on(w)
    now = timezone.now()
    # Filed 19 h ago: warned an hour ago, due in 5 h. A real clock: the threads share it.
    cases = [
        build(w, n, grid=n % 2, filed=now - timedelta(hours=19, minutes=n)) for n in range(1, 81)
    ]
    Case.objects.bulk_create(cases)
    SlaCheck.objects.bulk_create([case.sla_check for case in cases])
    barrier = threading.Barrier(2)

    def sweep_now():
        barrier.wait(WAIT)
        return sla_sweep_step(batch=10)

    sweeps = [Actor(sweep_now) for _ in range(2)]
    for actor in sweeps:
        actor.start()
    results = [actor.finish() for actor in sweeps]

    assert sum(r.warnings for r in results) == 80
    assert sum(r.breaches for r in results) == 0
    recorded = Counter(
        CaseEvent.objects.filter(kind=K.SLA_WARNING).values_list("case_id", flat=True)
    )
    assert recorded == {case.pk: 1 for case in cases}
    notices = Notification.objects.filter(kind="sla_warn_not_assigned")
    assert Counter(notices.values_list("case_id", "recipient__username")) == {
        (case.pk, "secretary"): 1 for case in cases
    }
    assert sla_sweep_step() == SweepResult()
    connection.close()


def test_the_clock_twin_names_the_warnings(world):
    assert set(clock.WARNINGS) == set(clock.WARNED_FLAG) == set(clock.WARN_COLUMN)
    assert set(clock.REASONS) < set(clock.WARNINGS)

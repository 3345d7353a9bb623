"""The recurring progress limit (进展时限): while a case is assigned and open, a progress note
is due every N days (the policy's time basis) from the assignment or the last note; each
period missed is recorded once as PROGRESS_OVERDUE, stamped at the period's end, and told to
the mediator and the unit's assigners; a warning comes before it like before any deadline;
a new note starts a new period. Once through overlapping sweeps and outages; on PostgreSQL,
once with two sweeps at the same moment.

Same scenario and people as test_sla_engine.py; the policy asks for a note every 7 days and
warns of nothing unless a test says so."""

import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from disputes import services
from disputes.models import Case, CaseEvent, CaseStatus, Outcome
from disputes.sweep import SweepResult, sla_sweep_step
from notifications.models import Notification
from sla import clock
from sla.models import SlaCheck, SlaPolicy, TimeBasis
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
from tests.disputes.test_warnings import check_of, told, warnings, warnings_on

pytestmark = pytest.mark.django_db

K = CaseEvent.Kind
S = CaseStatus
MINUTE = timedelta(minutes=1)
WEEK = 7 * DAY


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(T0, tick=False)


@pytest.fixture
def world():
    w = World()
    warnings_on(w, warn_at_percent=0, progress_every_days=7)
    return w


def overdue(case: Case) -> list[datetime]:
    return list(
        case.events.filter(kind=K.PROGRESS_OVERDUE)
        .order_by("at", "id")
        .values_list("at", flat=True)
    )


def handled(w: World, at: datetime, time_machine) -> Case:
    """A case assigned at T0 and first handled at `at`."""
    case = assign_case(w, file(w))
    time_machine.move_to(at)
    case = progress(w, case)
    Notification.objects.all().delete()  # the hand-offs of arranging it
    return case


def test_it_records_a_missed_period_once_at_its_end_and_tells_the_mediator_and_the_unit(
    world, time_machine
):
    case = assign_case(world, file(world))
    assert check_of(case).progress_due_at == T0 + WEEK  # from the assignment
    time_machine.move_to(T0 + HOUR)
    case = progress(world, case)
    Notification.objects.all().delete()
    due = T0 + HOUR + WEEK  # from the last note
    assert (check_of(case).progress_due_at, check_of(case).next_check_at) == (due, due)
    time_machine.move_to(due)
    assert sla_sweep_step().checked == 0  # at the end to the second: not yet missed
    time_machine.shift(MINUTE)

    result = sla_sweep_step()

    assert (result.checked, result.breaches, result.warnings) == (1, 1, 0)
    [event] = case.events.filter(kind=K.PROGRESS_OVERDUE)
    assert (event.at, event.recorded_at, event.actor) == (due, due + MINUTE, None)
    assert event.data["reason"] == "no_progress" and event.data["every_days"] == 7
    assert datetime.fromisoformat(event.data["deadline"]) == due
    assert (event.note, event.get_kind_display()) == ("未按时记录进展", "进展超期")
    assert told("sla_no_progress") == {"mediator": 1, "secretary": 1}
    check = check_of(case)
    assert check.progress_due_at == due + WEEK  # the next period runs
    assert check.next_check_at == due + WEEK
    assert (sla_sweep_step().checked, overdue(case)) == (0, [due])


def test_it_records_each_missed_period_once_through_an_outage_and_overlapping_sweeps(
    world, time_machine
):
    case = handled(world, T0 + HOUR, time_machine)
    time_machine.move_to(T0 + 22 * DAY)  # no sweep for three weeks

    first, second = sla_sweep_step(), sla_sweep_step()

    ends = [T0 + HOUR + n * WEEK for n in (1, 2, 3)]
    assert (first.breaches, second.checked) == (3, 0)
    assert overdue(case) == ends  # each period once, at its true end
    assert told("sla_no_progress") == {"mediator": 1, "secretary": 1}  # told once, not thrice
    assert check_of(case).progress_due_at == T0 + HOUR + 4 * WEEK
    time_machine.move_to(T0 + 22 * DAY + HOUR)
    assert sla_sweep_step().checked == 0


def test_a_progress_note_starts_a_new_period(world, time_machine):
    case = handled(world, T0 + HOUR, time_machine)
    time_machine.move_to(T0 + 5 * DAY)
    case = progress(world, case)
    assert check_of(case).progress_due_at == T0 + 12 * DAY
    time_machine.move_to(T0 + 8 * DAY)
    assert sla_sweep_step().breaches == 0  # the first period's end no longer counts
    time_machine.move_to(T0 + 12 * DAY + MINUTE)
    assert sla_sweep_step().breaches == 1
    assert overdue(case) == [T0 + 12 * DAY]


def test_a_note_after_a_missed_end_keeps_the_miss_on_record_when_the_sweep_was_down(
    world, time_machine
):
    case = handled(world, T0 + HOUR, time_machine)
    time_machine.move_to(T0 + 9 * DAY)  # the period ended at 7 days and 1 hour, no sweep came
    case = progress(world, case)

    assert overdue(case) == [T0 + HOUR + WEEK]  # recorded by the note, at its true time
    assert not Notification.objects.filter(kind="sla_no_progress").exists()  # nobody to chase
    assert check_of(case).progress_due_at == T0 + 9 * DAY + WEEK
    assert sla_sweep_step().checked == 0


def test_it_warns_before_a_progress_note_is_due_and_again_each_period(world, time_machine):
    warnings_on(world, progress_every_days=7)  # and 75 %: 1.75 days before each end
    case = handled(world, T0 + HOUR, time_machine)
    end = T0 + HOUR + WEEK
    assert check_of(case).warn_progress_at == end - 1.75 * DAY
    time_machine.move_to(end - 1.5 * DAY)
    sla_sweep_step()
    assert warnings(case) == [("no_progress", end - 1.75 * DAY)]
    assert told("sla_warn_no_progress") == {"mediator": 1}
    case = progress(world, case)  # in time: the next period warns afresh
    check = check_of(case)
    assert (check.warned_progress, check.progress_due_at) == (False, end - 1.5 * DAY + WEEK)

    time_machine.move_to(end - 1.5 * DAY + WEEK + HOUR)  # that period missed, sweep late
    result = sla_sweep_step()
    assert (result.warnings, result.breaches) == (1, 1)
    assert warnings(case)[-1] == ("no_progress", end - 1.5 * DAY + WEEK - 1.75 * DAY)
    assert told("sla_warn_no_progress") == {"mediator": 1}  # a warning past its end: not told


def test_it_stops_while_the_clock_is_paused_and_starts_afresh_when_it_runs(world, time_machine):
    SlaPolicy.objects.filter(pk=world.policy.pk).update(pause_for_judicial_review=True)
    case = handled(world, T0 + HOUR, time_machine)
    time_machine.move_to(T0 + 3 * DAY)
    case = services.case_pause_clock(case=case, actor=world.mediator, note="已申请司法确认")
    assert check_of(case).progress_due_at is None
    time_machine.move_to(T0 + 20 * DAY)
    assert sla_sweep_step().checked == 0
    case = services.case_resume_clock(case=case, actor=world.mediator, note="法院已确认")
    assert check_of(case).progress_due_at == T0 + 27 * DAY
    assert overdue(case) == []


def test_it_stops_when_the_case_is_closed_keeping_a_miss_the_sweep_had_not_recorded(
    world, time_machine
):
    case = handled(world, T0 + HOUR, time_machine)
    time_machine.move_to(T0 + 8 * DAY)  # the period ended a day ago; no sweep since
    case = services.case_resolve(case=case, actor=world.mediator, outcome=Outcome.AGREEMENT)
    case = services.case_close(case=case, actor=world.secretary)

    assert overdue(case) == [T0 + HOUR + WEEK]
    assert check_of(case).progress_due_at is None
    time_machine.move_to(T0 + 40 * DAY)
    sla_sweep_step()
    assert overdue(case) == [T0 + HOUR + WEEK]


def test_it_starts_again_when_a_closed_case_is_reopened(world, time_machine):
    case = handled(world, T0 + HOUR, time_machine)
    case = services.case_resolve(case=case, actor=world.mediator, outcome=Outcome.AGREEMENT)
    case = services.case_close(case=case, actor=world.secretary)
    time_machine.move_to(T0 + 10 * DAY)
    case = services.case_reopen(case=case, actor=world.secretary, reason="当事人反悔")
    assert case.status == S.IN_MEDIATION
    assert check_of(case).progress_due_at == T0 + 17 * DAY


def test_it_does_not_run_before_assignment_after_escalation_or_when_the_policy_says_0(
    world, time_machine
):
    waiting = file(world)
    assert check_of(waiting).progress_due_at is None
    escalated = services.case_escalate(
        case=handled(world, T0 + HOUR, time_machine), actor=world.secretary, reason="跨社区"
    )
    assert check_of(escalated).progress_due_at is None
    warnings_on(world, warn_at_percent=0, progress_every_days=0)
    assert check_of(assign_case(world, file(world))).progress_due_at is None


def test_it_counts_working_days_on_a_working_day_policy(world, time_machine):
    warnings_on(world, warn_at_percent=0, progress_every_days=5, time_basis=TimeBasis.WORKDAYS)
    case = handled(world, T0 + 4 * DAY, time_machine)  # a Friday morning
    # Five working days from Friday 9:00: the next Friday, past the weekend.
    assert check_of(case).progress_due_at == T0 + 11 * DAY
    assert clock.progress_deadline(case, T0) == T0 + 7 * DAY


# --- two sweeps at once (PostgreSQL) -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_records_each_missed_period_once_when_two_sweeps_run_at_once(
    transactional_db, celery_eager
):
    if connection.vendor != "postgresql":
        service_missing("sweep race tests need PostgreSQL (set DATABASE_URL)")
    w = World()
    warnings_on(w, warn_at_percent=0, progress_every_days=7)
    now = timezone.now()
    cases = []
    for n in range(1, 61):
        start = now - timedelta(days=8, minutes=n)
        case = build(w, n, grid=n % 2, filed=start, assigned=start, progressed=start)
        case.sla_check.progress_due_at = start + WEEK  # a day ago
        case.sla_check.next_check_at = clock.next_check_at(case, clock.breached_reasons(case))
        cases.append(case)
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

    assert sum(r.breaches for r in results) == 60
    events = CaseEvent.objects.filter(kind=K.PROGRESS_OVERDUE)
    assert Counter(events.values_list("case_id", flat=True)) == {case.pk: 1 for case in cases}
    notices = Notification.objects.filter(kind="sla_no_progress")
    assert Counter(notices.values_list("case_id", "recipient__username")) == {
        (case.pk, who): 1 for case in cases for who in ("mediator", "secretary")
    }
    assert sla_sweep_step() == SweepResult()
    connection.close()

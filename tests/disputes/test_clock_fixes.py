"""The closing clock through a judicial-confirmation pause: a breach stamped at its true
deadline when the clock is resumed before the sweep came by; no resume on a case that is no
longer open; a case closed while paused judged with the paused time counted."""

import pytest

from common.errors import StateConflict
from disputes import actions, services
from disputes.models import Case, CaseEvent
from disputes.sweep import sla_sweep_step
from sla import clock
from tests.disputes.test_sla_engine import DAY, T0, World, assign_case, file, progress
from tests.disputes.test_sla_engine_sweep import breaches

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(time_machine):
    time_machine.move_to(T0, tick=False)
    w = World()
    w.policy.pause_for_judicial_review = True
    w.policy.save()
    return w


def mediating(world, time_machine) -> Case:
    case = progress(world, assign_case(world, file(world)))
    sla_sweep_step()  # nothing due yet
    return case


def test_a_missed_deadline_is_stamped_at_its_true_time_when_the_clock_resumes(world, time_machine):
    case = mediating(world, time_machine)
    time_machine.move_to(T0 + 31 * DAY, tick=False)  # already past the 30-day limit, unrecorded
    case = services.case_pause_clock(case=Case.objects.get(pk=case.pk), actor=world.mediator)
    time_machine.move_to(T0 + 35 * DAY, tick=False)

    case = services.case_resume_clock(case=Case.objects.get(pk=case.pk), actor=world.mediator)

    assert breaches(case) == [("past_close", T0 + 30 * DAY)]
    assert case.close_due_at == T0 + 34 * DAY  # moved by the four paused days
    assert sla_sweep_step().breaches == 0  # and never recorded twice


def test_a_case_closed_while_paused_counts_the_paused_time(world, time_machine):
    case = mediating(world, time_machine)
    time_machine.move_to(T0 + 20 * DAY, tick=False)
    services.case_pause_clock(case=Case.objects.get(pk=case.pk), actor=world.mediator)
    time_machine.move_to(T0 + 40 * DAY, tick=False)

    case = services.case_resolve(
        case=Case.objects.get(pk=case.pk), actor=world.mediator, outcome="agreement"
    )
    case = services.case_close(case=case, actor=world.mediator)

    assert case.clock_paused_at is None and case.close_due_at == T0 + 50 * DAY
    assert case.closed_on_time is True
    assert clock.evaluate(case, T0 + 41 * DAY)[0] == clock.GREEN
    resumed = case.events.get(kind=CaseEvent.Kind.CLOCK_RESUMED)
    assert resumed.data["automatic"] is True and resumed.data["paused_seconds"] == 20 * 86400
    assert sla_sweep_step().breaches == 0 and breaches(case) == []


def test_resume_is_neither_offered_nor_accepted_on_a_closed_case(world, time_machine):
    case = mediating(world, time_machine)
    services.case_pause_clock(case=Case.objects.get(pk=case.pk), actor=world.mediator)
    # An old row: closed while paused before closing ended the pause.
    Case.objects.filter(pk=case.pk).update(
        status="closed", closed_at=T0 + DAY, outcome="failed", close_kind="procedural"
    )
    case = Case.objects.get(pk=case.pk)
    before = case.close_due_at

    assert "resume_clock" not in actions.available_names(world.mediator, case)
    with pytest.raises(StateConflict):
        services.case_resume_clock(case=case, actor=world.mediator)
    assert Case.objects.get(pk=case.pk).close_due_at == before

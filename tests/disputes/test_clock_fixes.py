"""The closing clock through a judicial-confirmation pause: a breach stamped at its true
deadline when the clock is resumed before the sweep came by; no resume on a case that is no
longer open; a case closed while paused judged with the paused time counted."""

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from common.errors import StateConflict
from disputes import actions, services
from disputes.models import Case, CaseEvent, ExtensionRequest
from disputes.sweep import sla_sweep_step
from sla import clock
from sla.models import TimeBasis
from tests.disputes.test_sla_engine import (
    DAY,
    SH,
    T0,
    World,
    assign_case,
    file,
    progress,
    request_extension,
)
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
    case = services.case_close(case=case, actor=world.secretary)

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


# --- starts outside office hours, extensions that end in the past, the late mark --------------


def workday_world(world) -> None:
    world.policy.time_basis = TimeBasis.WORKDAYS
    world.policy.save()


@pytest.mark.parametrize(
    "assigned, due",
    [
        # National Day 2026: 1–7 October off, 8 October the first working day.
        (datetime(2026, 10, 1, 0, 30, tzinfo=SH), datetime(2026, 10, 9, 8, 30, tzinfo=SH)),
        (datetime(2026, 9, 30, 20, 0, tzinfo=SH), datetime(2026, 10, 9, 8, 30, tzinfo=SH)),
        # Before the office opens on a working day: from its opening the same day.
        (datetime(2026, 3, 3, 7, 0, tzinfo=SH), datetime(2026, 3, 4, 8, 30, tzinfo=SH)),
        # In office hours: the same time on the next working day (a Friday → Monday).
        (datetime(2026, 3, 6, 10, 0, tzinfo=SH), datetime(2026, 3, 9, 10, 0, tzinfo=SH)),
        # Saturday: from Monday's opening.
        (datetime(2026, 3, 7, 10, 0, tzinfo=SH), datetime(2026, 3, 10, 8, 30, tzinfo=SH)),
    ],
)
def test_a_working_day_limit_starting_outside_office_hours_counts_from_the_next_opening(
    world, time_machine, assigned, due
):
    workday_world(world)
    time_machine.move_to(assigned - timedelta(hours=2), tick=False)
    case = file(world)
    time_machine.move_to(assigned, tick=False)
    case = assign_case(world, case)

    assert case.first_update_due_at == due
    # Not orange before the office has even opened.
    assert clock.evaluate(case, due - timedelta(minutes=1))[0] == clock.GREEN


def test_an_extension_that_would_end_in_the_past_is_refused_with_the_date(world, time_machine):
    case = mediating(world, time_machine)
    time_machine.move_to(T0 + 45 * DAY, tick=False)  # 15 days past the closing deadline

    with pytest.raises(ValidationError) as refused:
        request_extension(world, case, days=10)
    assert "2026-04-11" in str(refused.value.message_dict["days"])
    assert not ExtensionRequest.objects.exists()
    assert request_extension(world, case, days=20).days == 20  # enough days: accepted


def test_an_extension_decided_after_its_new_deadline_passed_cannot_be_approved(world, time_machine):
    case = mediating(world, time_machine)
    request = request_extension(world, case, days=10)
    time_machine.move_to(T0 + 41 * DAY, tick=False)  # nobody decided in time

    with pytest.raises(ValidationError) as refused:
        services.extension_decide(extension=request, actor=world.street, approve=True)
    assert "2026-04-11" in str(refused.value.message_dict["approve"])
    case.refresh_from_db()
    request.refresh_from_db()
    assert (case.close_due_at, request.status) == (T0 + 30 * DAY, "pending")
    assert not case.events.filter(kind=CaseEvent.Kind.EXTENSION_APPROVED).exists()
    # Refusing stays possible, and the sweep records the breach at its true time.
    services.extension_decide(extension=request, actor=world.street, approve=False)
    sla_sweep_step()
    assert breaches(case) == [("past_close", T0 + 30 * DAY)]


@pytest.mark.parametrize("resolved_after, on_time", [(29 * DAY, True), (31 * DAY, False)])
def test_a_resolved_case_shows_whether_it_was_resolved_in_time(
    world, time_machine, client, resolved_after, on_time
):
    case = mediating(world, time_machine)
    time_machine.move_to(T0 + resolved_after, tick=False)
    case = services.case_resolve(case=case, actor=world.mediator, outcome="agreement")
    assert case.resolved_on_time is on_time

    client.force_login(world.secretary)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'data-on-time="{int(on_time)}"' in page.split('data-testid="close-due"')[1]
    api = client.get(f"/api/v1/cases/{case.pk}/").json()
    assert (api["resolved_on_time"], api["closed_on_time"]) == (on_time, None)

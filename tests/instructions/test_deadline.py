"""The acknowledgement deadline, through the shared exactly-once timers: when it passes the
sender is told, once, how many have not acknowledged, however many sweeps run."""

from datetime import timedelta

from disputes.tasks import sla_sweep
from instructions import services
from instructions.models import ACK_DUE, InstructionEvent
from notifications.models import Notification
from sla import timers

from .conftest import NOW


def overdue_notices():
    return Notification.objects.filter(kind="instruction_overdue")


def sent(world, time_machine):
    """An instruction, and the sweep that wrote its inbox notices (the fallback timer)
    out of the way, so the ticks below count the deadline's timer only."""
    instruction = world.send()
    assert timers.sweep(now=NOW + timedelta(minutes=3)) == 1
    return instruction


def test_it_tells_the_sender_once_how_many_have_not_acknowledged(world, time_machine):
    instruction = sent(world, time_machine)
    services.instruction_ack(instruction=instruction, actor=world.workers[0])
    time_machine.shift(timedelta(hours=3, minutes=59))
    assert timers.sweep() == 0
    assert not overdue_notices().exists()

    time_machine.shift(timedelta(minutes=2))
    assert timers.sweep() == 1
    assert timers.sweep() == 0  # an overlapping or repeated tick finds nothing
    time_machine.shift(timedelta(minutes=1))
    assert timers.sweep() == 0

    (notice,) = overdue_notices()
    assert notice.recipient == world.secretary
    assert notice.title == "4人中有3人未按时签收：今晚防汛值守"
    (event,) = instruction.events.filter(kind=InstructionEvent.Kind.DEADLINE)
    # Stamped at the true deadline, not when the sweep ran.
    assert (event.people, event.at, event.actor) == (3, NOW + timedelta(hours=4), None)
    instruction.refresh_from_db()
    assert instruction.overdue_notified_at is not None


def test_a_sweep_a_day_late_tells_the_sender_once(world, time_machine, celery_eager):
    instruction = sent(world, time_machine)
    time_machine.shift(timedelta(days=1))
    assert sla_sweep()["timers"] == 1
    assert sla_sweep()["timers"] == 0
    assert overdue_notices().count() == 1
    assert instruction.events.filter(kind=InstructionEvent.Kind.DEADLINE).count() == 1


def test_a_rearmed_timer_does_not_tell_twice(world, time_machine):
    instruction = sent(world, time_machine)
    time_machine.shift(timedelta(hours=5))
    timers.sweep()
    timers.arm(ACK_DUE, instruction.pk, NOW + timedelta(hours=4, minutes=30))
    assert timers.sweep() == 1
    assert overdue_notices().count() == 1


def test_it_tells_nobody_when_everyone_acknowledged_in_time(world, time_machine):
    instruction = sent(world, time_machine)
    for user in world.c1_workers:
        services.instruction_ack(instruction=instruction, actor=user)
    time_machine.shift(timedelta(hours=5))
    assert timers.sweep() == 1
    assert not overdue_notices().exists()
    (event,) = instruction.events.filter(kind=InstructionEvent.Kind.DEADLINE)
    assert event.people == 0

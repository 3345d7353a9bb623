"""Recipients: opening marks read (once), 已签收 is idempotent and marks read, nobody else
can acknowledge, and two acknowledgements at once record one time."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from instructions import services
from instructions.models import InstructionRecipient, RecipientStatus
from tests.conftest import service_missing

from .conftest import NOW


def receipt(instruction, user) -> InstructionRecipient:
    return InstructionRecipient.objects.get(instruction=instruction, user=user)


def test_it_marks_read_at_the_first_opening_only(world, time_machine):
    instruction = world.send()
    worker = world.workers[0]
    services.instruction_open(instruction=instruction, actor=worker)
    time_machine.shift(timedelta(minutes=5))
    again = services.instruction_open(instruction=instruction, actor=worker)
    assert (again.status, again.read_at, again.acked_at) == (RecipientStatus.READ, NOW, None)
    assert receipt(instruction, worker).read_at == NOW


def test_it_acknowledges_once_and_keeps_the_first_time(world, time_machine):
    instruction = world.send()
    worker = world.workers[0]
    time_machine.shift(timedelta(minutes=1))
    first = services.instruction_ack(instruction=instruction, actor=worker)
    time_machine.shift(timedelta(minutes=10))
    second = services.instruction_ack(instruction=instruction, actor=worker)
    stored = receipt(instruction, worker)
    at = NOW + timedelta(minutes=1)
    assert first.acked_at == second.acked_at == stored.acked_at == at
    # Acknowledged without opening first: read at the same moment.
    assert (stored.status, stored.read_at) == (RecipientStatus.ACKED, at)
    # Opening it afterwards changes nothing.
    services.instruction_open(instruction=instruction, actor=worker)
    assert receipt(instruction, worker).status == RecipientStatus.ACKED


def test_it_keeps_the_reading_time_when_acknowledging_later(world, time_machine):
    instruction = world.send()
    worker = world.workers[1]
    services.instruction_open(instruction=instruction, actor=worker)
    time_machine.shift(timedelta(hours=1))
    services.instruction_ack(instruction=instruction, actor=worker)
    stored = receipt(instruction, worker)
    assert (stored.read_at, stored.acked_at) == (NOW, NOW + timedelta(hours=1))


def test_it_accepts_a_late_acknowledgement(world, time_machine):
    instruction = world.send()
    time_machine.shift(timedelta(days=1))
    late = services.instruction_ack(instruction=instruction, actor=world.double)
    assert late.acked_at > instruction.ack_due_at


@pytest.mark.parametrize("who", ["nobody", "secretary", "micro_head", "secretary3"])
def test_it_refuses_those_it_was_not_sent_to(world, who):
    instruction = world.send()
    for action in (services.instruction_open, services.instruction_ack):
        with pytest.raises(PermissionDenied):
            action(instruction=instruction, actor=getattr(world, who))
    assert not InstructionRecipient.objects.filter(read_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_it_records_one_time_for_acknowledgements_at_once(world, time_machine):
    """Eight taps at once (two phones, a double tap …) with the clock running: every one
    answers with the same time, the one stored; a blind UPDATE would store the last."""
    if connection.vendor != "postgresql":
        service_missing("race tests need PostgreSQL (set DATABASE_URL)")
    instruction = world.send()
    worker = world.workers[0]
    time_machine.move_to(NOW + timedelta(minutes=1), tick=True)
    barrier = threading.Barrier(8)
    results, errors = [], []

    def ack():
        try:
            barrier.wait(10)
            results.append(services.instruction_ack(instruction=instruction, actor=worker).acked_at)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ack) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    stored = receipt(instruction, worker)
    assert results == [stored.acked_at] * 8
    assert stored.status == RecipientStatus.ACKED and stored.read_at == stored.acked_at

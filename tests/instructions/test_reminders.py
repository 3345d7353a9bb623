"""Reminders: only those who have not acknowledged, by SMS through the outbox (quiet hours
kept), each at most once an hour; only the sender or someone over the area may remind."""

import threading
from datetime import datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from common.errors import StateConflict
from instructions import services
from instructions.models import InstructionEvent, InstructionRecipient
from notifications.models import Notification, NotificationPreference, OutboxMessage
from sla import timers
from tests.conftest import service_missing

from .conftest import NOW, SH


def sms_to() -> list[str]:
    return sorted(OutboxMessage.objects.filter(channel="sms").values_list("address", flat=True))


def test_it_reminds_only_those_who_have_not_acknowledged_by_sms(world):
    instruction = world.send()
    services.instruction_ack(instruction=instruction, actor=world.workers[0])
    services.instruction_open(instruction=instruction, actor=world.workers[1])  # read only
    world.double.phone = ""
    world.double.save(update_fields=["phone"])

    reminded = services.instruction_remind(instruction=instruction, actor=world.secretary)

    assert reminded == 3
    laggards = [world.workers[1], world.micro_worker, world.double]
    assert sms_to() == sorted(u.phone for u in laggards if u.phone)  # the double has no phone
    notices = Notification.objects.filter(kind="instruction_reminder")
    assert sorted(notices.values_list("recipient", flat=True)) == sorted(u.pk for u in laggards)
    assert "今晚防汛值守" in notices.first().title
    assert not OutboxMessage.objects.filter(channel="email").exists()
    message = OutboxMessage.objects.filter(channel="sms").first()
    assert message.status == "pending" and message.not_before == NOW
    rows = InstructionRecipient.objects.filter(instruction=instruction)
    assert sorted(rows.filter(reminded_at=NOW).values_list("user", flat=True)) == sorted(
        u.pk for u in laggards
    )
    assert rows.get(user=world.workers[0]).reminded_at is None
    event = instruction.events.get(kind=InstructionEvent.Kind.REMINDED)
    assert (event.actor, event.people, event.at) == (world.secretary, 3, NOW)


def test_it_reminds_each_person_at_most_once_an_hour(world, time_machine):
    instruction = world.send()
    assert services.instruction_remind(instruction=instruction, actor=world.secretary) == 4
    time_machine.shift(timedelta(minutes=59))
    assert services.instruction_remind(instruction=instruction, actor=world.street) == 0
    assert OutboxMessage.objects.count() == 4
    services.instruction_ack(instruction=instruction, actor=world.micro_worker)
    time_machine.shift(timedelta(minutes=1))
    assert services.instruction_remind(instruction=instruction, actor=world.secretary) == 3
    assert OutboxMessage.objects.count() == 4 + 3
    counts = dict(
        InstructionRecipient.objects.filter(instruction=instruction).values_list(
            "user", "reminders"
        )
    )
    assert counts[world.micro_worker.pk] == 1 and counts[world.double.pk] == 2
    assert instruction.events.filter(kind=InstructionEvent.Kind.REMINDED).count() == 2


def test_it_keeps_the_quiet_hours(world, time_machine):
    instruction = world.send()
    time_machine.move_to(datetime(2026, 11, 25, 23, 30, tzinfo=SH), tick=False)
    services.instruction_remind(instruction=instruction, actor=world.secretary)
    not_before = set(OutboxMessage.objects.values_list("not_before", flat=True))
    assert not_before == {datetime(2026, 11, 26, 7, 0, tzinfo=SH)}


def test_it_says_so_when_everyone_has_acknowledged(world):
    instruction = world.send()
    for user in world.c1_workers:
        services.instruction_ack(instruction=instruction, actor=user)
    with pytest.raises(StateConflict):
        services.instruction_remind(instruction=instruction, actor=world.secretary)
    assert not OutboxMessage.objects.exists()
    assert not instruction.events.filter(kind=InstructionEvent.Kind.REMINDED).exists()


@pytest.mark.parametrize("who", ["secretary3", "workers", "mediator", "nobody"])
def test_it_lets_only_the_sender_and_those_over_the_area_remind(world, who):
    instruction = world.send()
    actor = getattr(world, who)
    actor = actor[0] if isinstance(actor, list) else actor
    with pytest.raises(PermissionDenied):
        services.instruction_remind(instruction=instruction, actor=actor)
    assert not OutboxMessage.objects.exists()
    assert not InstructionRecipient.objects.filter(reminded_at__isnull=False).exists()
    # Those over C1 may: the street centre, the district, an administrator.
    assert services.instruction_remind(instruction=instruction, actor=world.district_staff) == 4


@pytest.mark.django_db(transaction=True)
def test_it_reminds_each_person_once_when_two_press_at_once(world, time_machine):
    if connection.vendor != "postgresql":
        service_missing("race tests need PostgreSQL (set DATABASE_URL)")
    instruction = world.send()
    time_machine.move_to(NOW + timedelta(minutes=1), tick=True)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def remind(actor):
        try:
            barrier.wait(10)
            results.append(services.instruction_remind(instruction=instruction, actor=actor))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=remind, args=(a,)) for a in (world.secretary, world.street)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(results) == [0, 4]
    assert OutboxMessage.objects.count() == 4
    assert Notification.objects.filter(kind="instruction_reminder").count() == 4


def test_a_worker_who_turned_off_sms_for_instructions_gets_the_inbox_notice_only(world):
    """The per-user settings (/notifications/settings/) apply to city-wide notices too; a
    choice for another group of notices changes nothing here."""
    NotificationPreference.objects.create(user=world.workers[0], group="instructions", sms=False)
    NotificationPreference.objects.create(user=world.workers[1], group="deadlines", sms=False)
    instruction = world.send()

    assert services.instruction_remind(instruction=instruction, actor=world.secretary) == 4

    everyone = [world.workers[0], world.workers[1], world.micro_worker, world.double]
    notices = Notification.objects.filter(kind="instruction_reminder")
    assert sorted(notices.values_list("recipient", flat=True)) == sorted(u.pk for u in everyone)
    assert sms_to() == sorted(u.phone for u in everyone[1:] if u.phone)


@pytest.fixture
def large(monkeypatch):
    """Treat every reminder as a city's: its notices leave the request."""
    monkeypatch.setattr(services, "REMIND_IN_REQUEST_MAX", 2)


def test_a_large_reminder_writes_its_notices_after_commit_once(
    world, large, django_capture_on_commit_callbacks, celery_eager
):
    instruction = world.send()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert services.instruction_remind(instruction=instruction, actor=world.secretary) == 4
    # The request stamped the people and recorded the reminder, nothing more.
    assert not OutboxMessage.objects.exists()
    assert not Notification.objects.filter(kind="instruction_reminder").exists()
    event = instruction.events.get(kind=InstructionEvent.Kind.REMINDED)
    assert event.notices_written_at is None

    # Meanwhile one of them acknowledges: no reminder for them after all.
    services.instruction_ack(instruction=instruction, actor=world.double)
    for callback in queued:
        callback()  # the task, run by Celery in-process

    still_waiting = [world.workers[0], world.workers[1], world.micro_worker]
    notices = Notification.objects.filter(kind="instruction_reminder")
    assert sorted(notices.values_list("recipient", flat=True)) == sorted(
        u.pk for u in still_waiting
    )
    assert sms_to() == sorted(u.phone for u in still_waiting if u.phone)
    # The sweep's fallback two minutes later finds them written: nothing twice.
    timers.sweep(now=NOW + timedelta(minutes=3))
    assert notices.count() == 3


def test_a_lost_task_is_made_up_for_by_the_sweep_once(world, large):
    instruction = world.send()
    services.instruction_remind(instruction=instruction, actor=world.secretary)  # task lost

    assert timers.sweep(now=NOW + timedelta(minutes=1)) == 0  # not due yet
    timers.sweep(now=NOW + timedelta(minutes=3))
    timers.sweep(now=NOW + timedelta(minutes=4))

    assert Notification.objects.filter(kind="instruction_reminder").count() == 4
    assert OutboxMessage.objects.filter(channel="sms").count() == len(
        [u for u in world.c1_workers if u.phone]
    )

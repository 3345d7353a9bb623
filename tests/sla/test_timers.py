"""Exactly-once timers (sla/timers.py): arm, move, disarm, fire once, late and in races.

The handlers here write rows of a real table (the notifications inbox needs a user, so the
test kind records what it was given into a list and a Timer-free side table: CaseEvent would
need a case). Races run on PostgreSQL with two real connections."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from disputes.tasks import sla_sweep
from sla import timers
from sla.models import Timer
from tests.conftest import service_missing

fired: list[tuple[str, int, object]] = []
FAIL = {"on": False}


@timers.handler("tests.reminder")
def _reminder(due, now):
    for item in due:
        fired.append((item.kind, item.object_id, item.due_at))


@timers.handler("tests.fragile")
def _fragile(due, now):
    if FAIL["on"]:
        raise RuntimeError("the handler broke")
    fired.extend((item.kind, item.object_id, item.due_at) for item in due)


@timers.handler("tests.repeat")
def _repeat(due, now):
    for item in due:
        fired.append((item.kind, item.object_id, item.due_at))
        timers.arm(item.kind, item.object_id, item.due_at + timedelta(days=7))


@pytest.fixture(autouse=True)
def _clean():
    fired.clear()
    FAIL["on"] = False
    yield
    fired.clear()


def at(hours: float):
    return timezone.now() + timedelta(hours=hours)


@pytest.mark.django_db
def test_fires_once_when_due_stamped_at_the_deadline():
    due = at(-1)
    timers.arm("tests.reminder", 7, due)
    timers.arm("tests.reminder", 8, at(+1))  # not yet
    assert timers.sweep() == 1
    assert fired == [("tests.reminder", 7, due)]
    assert timers.sweep() == 0  # a second tick finds nothing
    assert timers.pending("tests.reminder", 7) is None
    assert timers.pending("tests.reminder", 8) is not None


@pytest.mark.django_db
def test_a_sweep_three_days_late_fires_each_once_with_the_true_deadlines():
    deadlines = {n: at(-24 * 3 + n) for n in range(5)}
    for n, due in deadlines.items():
        timers.arm("tests.reminder", n, due)
    assert timers.sweep(batch=2) == 5  # several batches
    assert sorted((o, d) for _, o, d in fired) == sorted(deadlines.items())
    assert timers.sweep() == 0


@pytest.mark.django_db
def test_moving_disarming_and_rearming():
    timers.arm("tests.reminder", 1, at(-1))
    timers.arm("tests.reminder", 1, at(+5))  # moved before it fired: nothing due
    assert Timer.objects.filter(kind="tests.reminder").count() == 1
    assert timers.sweep() == 0
    timers.disarm("tests.reminder", 1)  # done in time
    assert not Timer.objects.exists()
    timers.arm("tests.reminder", 2, at(-2))
    assert timers.sweep() == 1
    timers.arm("tests.reminder", 2, at(-1))  # re-armed after firing: fires again, once
    assert timers.sweep() == 1
    assert [o for _, o, _ in fired] == [2, 2]


@pytest.mark.django_db
def test_a_failing_handler_fires_nothing_and_is_retried():
    timers.arm("tests.fragile", 1, at(-1))
    timers.arm("tests.reminder", 1, at(-1))
    FAIL["on"] = True
    assert timers.sweep() == 1  # the other kind still fired
    assert timers.pending("tests.fragile", 1) is not None
    FAIL["on"] = False
    assert timers.sweep() == 1
    assert ("tests.fragile", 1) in [(k, o) for k, o, _ in fired]


@pytest.mark.django_db
def test_a_handler_can_rearm_a_recurring_deadline():
    first = at(-24 * 15)  # two weeks of outage: fires for the first week, re-armed for the next
    timers.arm("tests.repeat", 3, first)
    assert timers.sweep() == 1
    assert timers.pending("tests.repeat", 3) == first + timedelta(days=7)
    assert timers.sweep(now=first + timedelta(days=8)) == 1
    assert [d for _, _, d in fired] == [first, first + timedelta(days=7)]


def test_unknown_kind_rejected_twice():
    with pytest.raises(ValueError):
        timers.handler("tests.reminder")(lambda due, now: None)


@pytest.mark.django_db(transaction=True)
def test_overlapping_sweeps_fire_each_timer_once():
    if connection.vendor != "postgresql":
        service_missing("timer race tests need PostgreSQL (set DATABASE_URL)")
    timers.arm_many("tests.reminder", [(n, at(-1), None) for n in range(400)])
    counts, errors = [], []
    start = threading.Barrier(4)

    def run():
        try:
            start.wait(10)
            counts.append(timers.sweep(batch=25))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sum(counts) == 400
    assert sorted(o for _, o, _ in fired) == list(range(400))
    assert not Timer.objects.filter(fired_at__isnull=True).exists()


@pytest.mark.django_db
def test_the_beat_sweep_fires_timers_after_the_cases(celery_eager):
    timers.arm("tests.reminder", 9, at(-1))
    assert sla_sweep()["timers"] == 1
    assert sla_sweep()["timers"] == 0

"""A busy tick works its batches on several connections at once (PostgreSQL, outside a
transaction): every due case is still checked once and each breach recorded once, also
when two ticks overlap, and the workers' connections are closed after."""

from collections import Counter

import pytest
from django.db import connection

from disputes.models import CaseEvent
from disputes.sweep import sla_sweep_step
from tests.disputes.test_api_concurrency import run_in_threads
from tests.disputes.test_sla_engine import DAY, HOUR, T0, World, assign_case, file, progress
from tests.disputes.test_sla_engine_sweep import forget_handoffs

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="threads on PostgreSQL only"),
]


@pytest.fixture
def world(db, time_machine):
    time_machine.move_to(T0, tick=False)  # before the assignments: active "now"
    return World()


def _backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def _past_close(world, time_machine, count: int) -> list:
    cases = [assign_case(world, file(world)) for _ in range(count)]
    for case in cases:
        progress(world, case)
    time_machine.move_to(T0 + 30 * DAY + HOUR, tick=False)
    forget_handoffs()
    return cases


def test_batches_in_threads_record_each_breach_once(world, time_machine, settings):
    settings.SLA_SWEEP_THREADS = 2
    cases = _past_close(world, time_machine, 7)
    before = _backends()

    result = sla_sweep_step(batch=2)  # four batches over two workers

    assert (result.checked, result.breaches, result.skipped) == (7, 7, 0)
    breaches = Counter(
        CaseEvent.objects.filter(kind=CaseEvent.Kind.SLA_BREACH).values_list("case_id", flat=True)
    )
    assert breaches == {case.pk: 1 for case in cases}
    assert _backends() <= before  # the workers closed their connections
    assert sla_sweep_step(batch=2).breaches == 0


def test_two_ticks_in_threads_at_once_record_each_breach_once(world, time_machine, settings):
    settings.SLA_SWEEP_THREADS = 2
    cases = _past_close(world, time_machine, 9)

    results = run_in_threads(2, lambda _i: sla_sweep_step(batch=2))

    assert not [r for r in results if isinstance(r, Exception)]
    assert sum(r.breaches for r in results) == 9
    breaches = Counter(
        CaseEvent.objects.filter(kind=CaseEvent.Kind.SLA_BREACH).values_list("case_id", flat=True)
    )
    assert breaches == {case.pk: 1 for case in cases}

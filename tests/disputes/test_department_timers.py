"""The sign-for deadline through the shared timers: a missed one is recorded once on the
case timeline at the true deadline, however many sweeps overlap or however late one runs;
a task signed for (or returned) in time records nothing."""

from datetime import timedelta

import pytest

from disputes import services
from disputes.department_timers import SIGN_FOR_DUE
from disputes.models import CaseEvent
from notifications.models import Notification
from sla import timers
from tests.disputes.test_api import seeded  # noqa: F401  (the demo district, once)
from tests.disputes.test_department_work import dispatched, task_of

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)


@pytest.fixture
def w(seeded, db):  # noqa: F811
    return seeded


def missed(case):
    return CaseEvent.objects.filter(case=case, kind="sla_breach", data__reason="not_signed_for")


def test_a_missed_sign_for_is_recorded_once_at_the_deadline_and_told(w):
    case = dispatched(w)
    task = task_of(case)
    assert timers.pending(SIGN_FOR_DUE, task.pk) == task.sign_due_at

    assert timers.sweep(now=task.sign_due_at - HOUR) == 0
    assert not missed(case).exists()
    # Two sweeps one after the other and a third much later: one record, at the deadline.
    timers.sweep(now=task.sign_due_at + HOUR)
    timers.sweep(now=task.sign_due_at + HOUR)
    timers.sweep(now=task.sign_due_at + 72 * HOUR)
    [event] = missed(case)
    assert event.at == task.sign_due_at
    assert event.data["department"] == w.hrss.name
    told = set(
        Notification.objects.filter(kind="sla_not_signed_for").values_list(
            "recipient__username", flat=True
        )
    )
    assert {"labour", "secretary"} <= told


def test_an_outage_records_the_miss_once_stamped_at_the_true_time(w):
    case = dispatched(w)
    task = task_of(case)
    # The sweep was down for three days.
    assert timers.sweep(now=task.sign_due_at + 72 * HOUR) >= 1
    [event] = missed(case)
    assert event.at == task.sign_due_at


def test_signing_for_or_returning_in_time_records_nothing(w):
    signed = dispatched(w)
    services.task_sign(case=signed, actor=w.labour)
    returned = dispatched(w)
    services.task_return(case=returned, actor=w.labour, reason="不属于本部门")
    later = task_of(signed).sign_due_at + 72 * HOUR
    timers.sweep(now=later)
    assert not missed(signed).exists()
    assert not missed(returned).exists()

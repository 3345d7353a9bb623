"""The sign-for deadline through the shared timers: a missed one is recorded once on the
case timeline at the true deadline, however many sweeps overlap or however late one runs;
a task signed for (or returned) in time records nothing."""

from datetime import datetime, timedelta

import pytest

from disputes import services
from disputes.department_models import SIGN_FOR_WARNING
from disputes.department_timers import SIGN_FOR_DUE
from disputes.models import CaseEvent
from notifications.models import Notification
from sla import clock, timers
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

    assert timers.sweep(now=task.sign_due_at - HOUR) == 1  # its warning, not the deadline
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


# --- the warning before the sign-for deadline (即将超时) ------------------------------------------


def warned(case):
    return CaseEvent.objects.filter(case=case, kind="sla_warning", data__reason="not_signed_for")


def test_a_sign_for_is_warned_once_at_its_warning_time_and_the_liaisons_told(w):
    case = dispatched(w)
    task = task_of(case)
    warn_at = clock.warn_time(task.case, "not_assigned", task.sign_due_at)
    assert warn_at is not None and warn_at < task.sign_due_at
    assert timers.pending(SIGN_FOR_WARNING, task.pk) == warn_at
    Notification.objects.all().delete()  # the dispatch's own notices

    timers.sweep(now=warn_at - HOUR)
    assert not warned(case).exists()
    timers.sweep(now=warn_at + HOUR)
    timers.sweep(now=warn_at + HOUR)

    [event] = warned(case)
    assert event.at == warn_at and event.data["department"] == w.hrss.name
    assert datetime.fromisoformat(event.data["deadline"]) == task.sign_due_at
    notes = Notification.objects.filter(kind="sla_warn_not_signed_for")
    assert list(notes.values_list("recipient__username", flat=True)) == ["labour"]


def test_signing_for_or_returning_before_the_warning_disarms_it(w):
    signed = dispatched(w)
    services.task_sign(case=signed, actor=w.labour)
    returned = dispatched(w)
    services.task_return(case=returned, actor=w.labour, reason="不属于本部门")
    assert timers.pending(SIGN_FOR_WARNING, task_of(signed).pk) is None
    timers.sweep(now=task_of(signed).sign_due_at + 72 * HOUR)
    assert not warned(signed).exists() and not warned(returned).exists()


def test_an_outage_records_the_warning_and_the_miss_once_and_tells_only_the_miss(w):
    case = dispatched(w)
    task = task_of(case)
    Notification.objects.all().delete()
    timers.sweep(now=task.sign_due_at + 72 * HOUR)
    timers.sweep(now=task.sign_due_at + 72 * HOUR)
    assert warned(case).count() == missed(case).count() == 1
    assert not Notification.objects.filter(kind="sla_warn_not_signed_for").exists()
    assert Notification.objects.filter(kind="sla_not_signed_for").exists()

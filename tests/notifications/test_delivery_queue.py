"""One delivery task waits at a time, however many commits write email and SMS meanwhile
(at a hundred filings a second, each queued its own). The task itself runs here for real;
only its sending to the broker is recorded instead of sent, to see how many would go. A
real worker draining the outbox is tests/integration/test_celery_sla.py."""

import pytest
from django.db import transaction

from notifications import tasks
from notifications.delivery import outbox_deliver_due
from notifications.models import OutboxMessage
from notifications.services import notify
from tests.factories import UserFactory

# Transactions that really commit: their on-commit hooks run as in production.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _daytime(settings):
    settings.NOTIFY_QUIET_HOURS = (0, 0)  # no quiet hours: messages are due at once


@pytest.fixture
def queued(monkeypatch):
    """The delivery tasks that would have been sent to the broker."""
    sent = []
    monkeypatch.setattr(tasks.outbox_deliver, "delay", lambda: sent.append(True))
    return sent


def notify_committed(user, title="标题"):
    with transaction.atomic():
        notify(users=[user], case=None, kind="case_filed", title=title)


def test_commits_while_a_task_waits_queue_no_other(queued):
    users = [UserFactory(phone=f"1380000{n:04d}") for n in range(3)]
    for user in users:
        notify_committed(user)
    assert len(queued) == 1
    assert OutboxMessage.objects.filter(status="pending").count() == 3

    assert tasks.outbox_deliver() == 3  # the one task sends what the three wrote
    assert not OutboxMessage.objects.filter(status="pending").exists()


def test_a_commit_after_the_task_started_queues_the_next(queued):
    user = UserFactory(phone="13800001111")
    notify_committed(user)
    tasks.outbox_deliver()
    notify_committed(user, title="又一条")
    assert len(queued) == 2
    assert tasks.outbox_deliver() == 1


def test_a_run_that_leaves_messages_waiting_queues_another(queued, monkeypatch):
    """More waiting than one run sends (its limit, 1 here): the task queues the next."""
    monkeypatch.setattr(tasks, "outbox_deliver_due", lambda: outbox_deliver_due(limit=1))
    for n in range(2):
        notify_committed(UserFactory(phone=f"1390000{n:04d}"))
    assert len(queued) == 1
    assert tasks.outbox_deliver() == 1
    assert len(queued) == 2
    assert tasks.outbox_deliver() == 1
    assert len(queued) == 2  # nothing left: no further task

from celery import shared_task
from django.core.cache import cache

from .delivery import outbox_deliver_due, outbox_due

# Set while a delivery task is queued and has not started: commits meanwhile need no task
# of their own, the queued one will read their messages. At a hundred filings a second,
# each queued a task of its own (and the worker then ran a hundred a second, most finding
# nothing left to send). Expires on its own should the task be lost; beat's minutely
# delivery (settings.CELERY_BEAT_SCHEDULE) runs regardless.
QUEUED_KEY = "notifications:delivery-queued"
QUEUED_FOR = 60


def queue_delivery() -> None:
    """Start a delivery task unless one is already waiting to start (cache.add is atomic
    on Redis; with the file cache of the zero-setup run, two may start, which is harmless:
    each message is claimed once)."""
    if cache.add(QUEUED_KEY, True, timeout=QUEUED_FOR):
        outbox_deliver.delay()


@shared_task(ignore_result=True)
def outbox_deliver() -> int:
    # Cleared before reading: a message committed after this point queues the next task,
    # one committed before it is read below.
    cache.delete(QUEUED_KEY)
    sent = outbox_deliver_due()
    if outbox_due():  # more than one run's limit was waiting
        queue_delivery()
    return sent

from celery import shared_task

from .delivery import outbox_deliver_due


@shared_task(ignore_result=True)
def outbox_deliver() -> int:
    return outbox_deliver_due()

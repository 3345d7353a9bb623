from celery import shared_task

from .notices import write_notices, write_reminder_notices


@shared_task(ignore_result=True)
def instruction_notices(instruction_id: int) -> int:
    """Queued when an instruction is sent (after commit); safe to run twice (notices.py)."""
    return write_notices(instruction_id=instruction_id)


@shared_task(ignore_result=True)
def reminder_notices(event_id: int) -> int:
    """Queued after a large reminder commits; safe to run twice (notices.py)."""
    return write_reminder_notices(event_id=event_id)

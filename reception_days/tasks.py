from celery import shared_task

from . import services


@shared_task(acks_late=True)
def schedule_reception_days(months: int = 2, weeks: int = 2) -> dict:
    """Daily from beat. Thin wrapper: the scheduling service is idempotent (and the unique
    constraints settle overlapping runs), so a redelivered or duplicated tick is harmless."""
    return services.schedule_reception_days(months=months, weeks=weeks)

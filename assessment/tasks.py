from datetime import date

from celery import shared_task
from django.utils import timezone

from grids.models import User

from .services import last_month, snapshot_compute


@shared_task(ignore_result=True)
def assess_last_month() -> dict:
    """On the 1st of every month from beat: score last month. A month that already has a
    version is left alone, so a repeated or late tick computes nothing twice."""
    month = last_month(timezone.localdate())
    snapshot = snapshot_compute(month=month, reason="monthly task", only_if_missing=True)
    return {"month": f"{month:%Y-%m}", "version": snapshot.version, "rows": snapshot.row_count}


@shared_task(ignore_result=True)
def assess_month(month: str, actor_id: int, reason: str = "") -> dict:
    """A recomputation asked for in the admin: always a new version of the month."""
    actor = User.objects.get(pk=actor_id)
    snapshot = snapshot_compute(month=date.fromisoformat(month), actor=actor, reason=reason)
    return {"month": month, "version": snapshot.version, "rows": snapshot.row_count}

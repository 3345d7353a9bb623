from celery import shared_task
from django.utils import timezone

from notifications.services import one_delivery_task
from sla import timers
from sla.services import sweep_run_record

from . import upload_stash
from .services import deadlines_place_estimates
from .sweep import sla_sweep_step


@shared_task(ignore_result=True)
def sla_sweep() -> dict:
    """Every minute from beat. Safe to overlap or repeat: see sweep.py."""
    started_at = timezone.now()
    result = sla_sweep_step()
    with one_delivery_task():  # the timers' handlers notify too: one delivery task for all
        fired = timers.sweep()
    sweep_run_record(
        started_at=started_at,
        finished_at=timezone.now(),
        checked=result.checked,
        breaches=result.breaches,
    )
    return {
        "checked": result.checked,
        "breaches": result.breaches,
        "warnings": result.warnings,
        "skipped": result.skipped,
        "escalated": result.escalated,
        "timers": fired,
    }


@shared_task(ignore_result=True)
def place_deadlines(year: int, snapshot: dict[str, list]) -> int:
    """After a year's calendar is filled in (see signals.place_estimated_deadlines)."""
    return deadlines_place_estimates(year=year, snapshot=snapshot)


@shared_task(ignore_result=True)
def purge_upload_stash() -> int:
    """Hourly from beat: photos parked by failed filings nobody came back to."""
    return upload_stash.purge()

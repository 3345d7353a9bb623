"""Writes of the sla app."""

from datetime import datetime

from .models import SweepRun


def sweep_run_record(*, started_at: datetime, finished_at: datetime, checked: int, breaches: int):
    """Remember the last finished tick (one row, upserted: overlapping ticks just overwrite)."""
    SweepRun.objects.update_or_create(
        pk=1,
        defaults={
            "started_at": started_at,
            "finished_at": finished_at,
            "checked": checked,
            "breaches": breaches,
        },
    )

from celery import shared_task

from .sweep import sla_sweep_step


@shared_task(ignore_result=True)
def sla_sweep() -> dict:
    """Every minute from beat. Safe to overlap or repeat: see sweep.py."""
    result = sla_sweep_step()
    return {"checked": result.checked, "breaches": result.breaches, "skipped": result.skipped}

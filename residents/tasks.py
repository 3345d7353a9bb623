from datetime import date

from celery import shared_task

from .callbacks import callback_draw_month, previous_month


@shared_task(ignore_result=True)
def draw_callbacks(month: str | None = None) -> dict:
    """On the 1st of every month from beat: draw last month's callbacks in every street.
    Idempotent (one draw per street and month), so a repeated tick changes nothing."""
    drawn_month = date.fromisoformat(month) if month else previous_month()
    results = callback_draw_month(month=drawn_month)
    return {
        "month": f"{drawn_month:%Y-%m}",
        "streets": len(results),
        "created": sum(created for _draw, created in results),
        "tasks": sum(len(draw.chosen_ids) for draw, created in results if created),
    }

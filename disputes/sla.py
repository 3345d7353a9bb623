"""The SLA policy as pure functions ("13710": assign within 24 h, close within 30 days).

Colours are computed from stored deadlines and the clock, never from what a background
job last wrote, so they are right even when every worker is down."""

from datetime import datetime, timedelta

from django.utils.translation import gettext_lazy as _

ASSIGN_WITHIN = timedelta(hours=24)
FIRST_UPDATE_WITHIN = timedelta(hours=24)
CLOSE_WITHIN = timedelta(days=30)

GREEN, ORANGE, RED = "green", "orange", "red"
REASONS = {
    "not_assigned": _("Not assigned on time"),
    "not_handled": _("Not handled on time"),
    "past_close": _("Past the closing deadline"),
}
COLOUR_LABELS = {GREEN: _("Green"), ORANGE: _("Orange"), RED: _("Red")}


def deadlines_for(filed_at: datetime) -> dict[str, datetime]:
    return {"assign_due_at": filed_at + ASSIGN_WITHIN, "close_due_at": filed_at + CLOSE_WITHIN}


def evaluate(case, now: datetime) -> tuple[str, list[str]]:
    """(colour, reasons) for a case at `now`; reasons are keys of REASONS."""
    from .models import OPEN_STATUSES

    reasons = []
    if case.status not in OPEN_STATUSES:
        return GREEN, reasons
    if now > case.close_due_at:
        reasons.append("past_close")
    assigned_at = case.assigned_at
    if assigned_at is None and now > case.assign_due_at:
        reasons.append("not_assigned")
    if (
        assigned_at is not None
        and case.first_progress_at is None
        and now > assigned_at + FIRST_UPDATE_WITHIN
    ):
        reasons.append("not_handled")
    if "past_close" in reasons:
        return RED, reasons
    return (ORANGE if reasons else GREEN), reasons

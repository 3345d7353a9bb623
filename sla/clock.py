"""The SLA policy as pure functions ("13710": assign within 24 h, first handling within 24 h
of assignment, close within 30 days).

Colours are computed from stored deadlines and the clock, never from what a background job
last wrote, so they are right to the second even when every worker is down. `evaluate` works
on one case in Python; `annotate_sla` is its SQL twin for lists, filters and sorting."""

from datetime import UTC, datetime, timedelta

from django.db.models import BooleanField, CharField, Q, Value, When
from django.db.models import Case as When_
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.choices import OPEN_STATUSES
from grids.workdays import calendar_for

from .models import SlaCheck, SlaPolicy, TimeBasis

GREEN, ORANGE, RED = "green", "orange", "red"
# In order of severity: the red reason first.
REASONS = {
    "past_close": _("Past the closing deadline"),
    "not_assigned": _("Not assigned on time"),
    "not_handled": _("Not handled on time"),
}
COLOUR_LABELS = {GREEN: _("Green"), ORANGE: _("Orange"), RED: _("Red")}
DEFAULT_POLICY_CODE = "default"


# --- deadlines ------------------------------------------------------------------------------


def _add(policy, start: datetime, *, hours: int = 0, days: int = 0) -> datetime:
    """Natural time, or working days on the statutory calendar (24 h = one working day)."""
    if policy is None or policy.time_basis == TimeBasis.NATURAL:
        return start + timedelta(hours=hours, days=days)

    local = timezone.localtime(start)
    workdays = days + -(-hours // 24)  # whole working days, rounding hours up
    return calendar_for(local.date(), workdays).add_workdays(local, workdays)


def filing_deadlines(policy, filed_at: datetime) -> dict[str, datetime]:
    return {
        "assign_due_at": _add(policy, filed_at, hours=policy.assign_within_hours if policy else 24),
        "close_due_at": _add(policy, filed_at, days=policy.close_within_days if policy else 30),
    }


def first_update_deadline(policy, assigned_at: datetime) -> datetime:
    return _add(policy, assigned_at, hours=policy.first_update_within_hours if policy else 24)


def assign_deadline(policy, from_time: datetime) -> datetime:
    return _add(policy, from_time, hours=policy.assign_within_hours if policy else 24)


def extend(policy, close_due_at: datetime, days: int) -> datetime:
    return _add(policy, close_due_at, days=days)


def policy_for(category, risk_level: str):
    """The active policy that fits best: type and risk, then type, then risk, then default;
    `priority` breaks ties. Each case stores the row it got (its version)."""
    category_ids = [category.pk] + ([category.parent_id] if category.parent_id else [])
    candidates = (
        SlaPolicy.objects.filter(is_active=True)
        .filter(Q(category__isnull=True) | Q(category_id__in=category_ids))
        .filter(Q(risk_level="") | Q(risk_level=risk_level))
    )

    def rank(policy):
        return (
            policy.category_id == category.pk,
            policy.category_id is not None,
            bool(policy.risk_level),
            policy.priority,
            policy.version,
        )

    return max(candidates, key=rank, default=None)


# --- colour ----------------------------------------------------------------------------------


# Stands for "stopped at a time nobody recorded": never after a deadline.
_UNRECORDED = datetime.min.replace(tzinfo=UTC)


def _left_open_at(case) -> datetime:
    """When the case left the open states (resolved, closed, withdrawn or referred) since it
    was last reopened."""
    since = case.reopened_at
    times = [
        t
        for t in (case.resolved_at, case.closed_at, case.withdrawn_at, case.referred_at)
        if t is not None and (since is None or t >= since)
    ]
    return min(times, default=_UNRECORDED)


def _deadline_states(case) -> dict[str, tuple[datetime, datetime | None]]:
    """reason → (deadline, when its clock stopped): the step was done, the case left the
    open states or its clock was paused; None while the clock still runs."""
    ended = None if case.status in OPEN_STATUSES else _left_open_at(case)

    def stopped(done: datetime | None = None) -> datetime | None:
        times = [t for t in (done, ended, case.clock_paused_at) if t is not None]
        return min(times, default=None)

    states = {
        "past_close": (case.close_due_at, stopped()),
        "not_assigned": (case.assign_due_at, stopped(case.assigned_at)),
    }
    if case.assigned_at is not None and case.first_update_due_at is not None:
        states["not_handled"] = (case.first_update_due_at, stopped(case.first_progress_at))
    return states


def pending_deadlines(case) -> dict[str, datetime]:
    """The deadlines a case can still miss, by reason, ignoring what is already recorded."""
    return pending_and_late(case)[0]


def pending_and_late(case) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """(pending, late) deadlines by reason. Pending: as pending_deadlines. Late: deadlines
    that passed while their clock ran, though it has stopped since (the step was done late,
    or the case closed late) — still breaches, to be recorded once at the deadline even when
    the sweep only comes afterwards: it was down, or the late action held the case when the
    sweep came by."""
    pending, late = {}, {}
    for reason, (due, stop) in _deadline_states(case).items():
        if stop is None:
            pending[reason] = due
        elif stop > due:
            late[reason] = due
    return pending, late


def evaluate(case, now: datetime) -> tuple[str, list[str]]:
    """(colour, reasons) for a case at `now`; reasons are keys of REASONS."""
    reasons = [reason for reason, due in pending_deadlines(case).items() if now > due]
    reasons.sort(key=list(REASONS).index)
    if "past_close" in reasons:
        return RED, reasons
    return (ORANGE if reasons else GREEN), reasons


def annotate_sla(queryset, now: datetime):
    """SQL twin of `evaluate`: adds sla_colour and one boolean per reason, so lists can be
    filtered and sorted by colour in the database."""
    running = Q(status__in=OPEN_STATUSES, clock_paused_at__isnull=True)
    past_close = running & Q(close_due_at__lt=now)
    not_assigned = running & Q(assigned_at__isnull=True, assign_due_at__lt=now)
    not_handled = running & Q(
        assigned_at__isnull=False, first_progress_at__isnull=True, first_update_due_at__lt=now
    )

    def flag(condition):
        return When_(
            When(condition, then=Value(True)), default=Value(False), output_field=BooleanField()
        )

    return queryset.annotate(
        sla_past_close=flag(past_close),
        sla_not_assigned=flag(not_assigned),
        sla_not_handled=flag(not_handled),
        sla_colour=When_(
            When(past_close, then=Value(RED)),
            When(not_assigned | not_handled, then=Value(ORANGE)),
            default=Value(GREEN),
            output_field=CharField(),
        ),
        # 0 red, 1 orange, 2 green: "worst first" ordering.
        sla_rank=When_(
            When(past_close, then=Value(0)),
            When(not_assigned | not_handled, then=Value(1)),
            default=Value(2),
        ),
    )


def next_check_at(case, breached: set[str], deadlines=None) -> datetime | None:
    """The earliest deadline not yet recorded as breached, or None: a pending one, or one
    missed by a step done late whose breach nobody has recorded yet. `deadlines` is
    pending_and_late(case), when the caller has it already."""
    pending, late = deadlines or pending_and_late(case)
    remaining = [due for reason, due in (late | pending).items() if reason not in breached]
    return min(remaining, default=None)


# reason → the SlaCheck flag recording its breach.
FLAG_FOR = {
    "not_assigned": "breached_assign",
    "not_handled": "breached_first_update",
    "past_close": "breached_close",
}


def check_of(case):
    """The case's SlaCheck row, or a fresh unsaved one for a case that has none yet (a case
    filed through the services always has one; rows loaded by other means may not)."""
    try:
        return case.sla_check
    except SlaCheck.DoesNotExist:
        case.sla_check = SlaCheck(case=case)
        return case.sla_check


def breached_reasons(case) -> set[str]:
    check = check_of(case)
    return {reason for reason, flag in FLAG_FOR.items() if getattr(check, flag)}


def rearm(case) -> None:
    """Recompute the next check time and save the case's SlaCheck row. Called under the
    case's row lock by every service that changes the case, and by the sweep."""
    check = check_of(case)
    check.next_check_at = next_check_at(case, breached_reasons(case))
    if check.escalation_due:
        # An escalation the sweep decided on and has not done yet (it crashed, or this
        # change came in between): the next tick looks at the case again, and escalates
        # it if it is still red and open.
        now = timezone.now()
        check.next_check_at = min(check.next_check_at or now, now)
    check.version += 1
    check.save()


def after_days(policy, start: datetime, days: int) -> datetime:
    """`days` after `start` on the policy's time basis (working days or calendar days): the
    limits of a check (核查) and of a supervision card's answer."""
    return _add(policy, start, days=days)

"""The SLA policy as pure functions ("13710": assign within 24 h, first handling within 24 h
of assignment, close within 30 days).

Colours are computed from stored deadlines and the clock, never from what a background job
last wrote, so they are right to the second even when every worker is down. `evaluate` works
on one case in Python; `annotate_sla` is its SQL twin for lists, filters and sorting."""

import functools
from datetime import UTC, datetime, timedelta

from django.db.models import BooleanField, CharField, F, Q, Value, When
from django.db.models import Case as When_
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.choices import OPEN_STATUSES, CaseStatus
from common.prepared import Prepared
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


def _policies(risk_level: str, *category_ids: int):
    return (
        SlaPolicy.objects.filter(is_active=True)
        .filter(Q(category__isnull=True) | Q(category_id__in=category_ids))
        .filter(Q(risk_level="") | Q(risk_level=risk_level))
    )


# Read by every filing: compiled once per connection (common.prepared).
POLICIES = Prepared(_policies)


def policy_for(category, risk_level: str):
    """The active policy that fits best: type and risk, then type, then risk, then default;
    `priority` breaks ties. Each case stores the row it got (its version)."""
    category_ids = [category.pk] + ([category.parent_id] if category.parent_id else [])
    candidates = POLICIES.rows(risk_level, *category_ids)

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


RUNNING = Q(status__in=OPEN_STATUSES, clock_paused_at__isnull=True)


def sla_conditions(now: datetime) -> dict[str, Q]:
    """The colours and reasons as conditions on the stored deadlines (ranges an index can
    serve), the ground truth of both `annotate_sla` and the lists' colour filters: the three
    reasons, then `red`, `orange` and `green`."""
    past_close = RUNNING & Q(close_due_at__lt=now)
    not_assigned = RUNNING & Q(assigned_at__isnull=True, assign_due_at__lt=now)
    not_handled = RUNNING & Q(
        assigned_at__isnull=False, first_progress_at__isnull=True, first_update_due_at__lt=now
    )
    orange = RUNNING & Q(close_due_at__gte=now) & (not_assigned | not_handled)
    return {
        "past_close": past_close,
        "not_assigned": not_assigned,
        "not_handled": not_handled,
        RED: past_close,
        ORANGE: orange,
        GREEN: ~past_close & ~(not_assigned | not_handled),
    }


def annotate_sla(queryset, now: datetime):
    """SQL twin of `evaluate`: adds sla_colour and one boolean per reason, so lists can be
    filtered and sorted by colour in the database."""
    conditions = sla_conditions(now)
    past_close = conditions["past_close"]
    not_assigned = conditions["not_assigned"]
    not_handled = conditions["not_handled"]

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
    """The earliest moment the sweep has something to record, or None: a deadline not yet
    recorded as breached (a pending one, or one missed by a step done late whose breach
    nobody has recorded yet), a warning not yet recorded before a running deadline, or the
    end of the progress limit's period. `deadlines` is pending_and_late(case), when the
    caller has it already."""
    pending, late = deadlines or pending_and_late(case)
    check = check_of(case)
    times = [due for reason, due in (late | pending).items() if reason not in breached]
    times += [
        warn_time(case, reason, due)
        for reason, due in pending.items()
        if reason not in breached and not getattr(check, WARNED_FLAG[reason])
    ]
    progress = pending_progress(case)
    if progress is not None:
        times.append(progress)
        if not check.warned_progress:
            times.append(warn_time(case, "no_progress", progress))
    return min((t for t in times if t is not None), default=None)


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
    case's row lock by every service that changes the case, and by the sweep. Starts the
    progress limit's period when it starts to run (assignment, a progress note, the clock
    resumed, a reopened case) and stops it when it stops; stores the warning times."""
    check = check_of(case)
    now = timezone.now()
    if not progress_runs(case):
        check.progress_due_at = None
    elif check.progress_due_at is None:
        check.progress_due_at = progress_deadline(case, now)
    place_warnings(case, now)
    check.next_check_at = next_check_at(case, breached_reasons(case))
    if check.escalation_due:
        # An escalation the sweep decided on and has not done yet (it crashed, or this
        # change came in between): the next tick looks at the case again, and escalates
        # it if it is still red and open.
        now = timezone.now()
        check.next_check_at = min(check.next_check_at or now, now)
    check.version += 1
    # A row made by check_of (none in the database) is inserted without trying an UPDATE.
    check.save(force_insert=check._state.adding)


def after_days(policy, start: datetime, days: int) -> datetime:
    """`days` after `start` on the policy's time basis (working days or calendar days): the
    limits of a check (核查) and of a supervision card's answer."""
    return _add(policy, start, days=days)


# --- warnings before deadlines (即将超时) and the progress limit --------------------------------
#
# Each deadline is warned once, when the policy's share of its limit has passed or its hours
# before the deadline have come, whichever is earlier (SlaPolicy.warning_leads), counted
# back from the deadline as it stands: an extension, a pause or a correction that moves
# the deadline moves its warning, and a warning recorded before the move is armed again
# (place_warnings). A step done before its warning time is never warned. The progress limit
# is a deadline that comes back: a progress note is due every N days (the policy's time
# basis) from the assignment or the last note; each period missed is recorded once.

WARNINGS = {
    "not_assigned": _("Assignment due soon"),
    "not_handled": _("First handling due soon"),
    "past_close": _("Closing due soon"),
    "no_progress": _("Progress note due soon"),
}
PROGRESS_OVERDUE = _("No progress note in time")
# reason → the SlaCheck flag recording its warning, and the column keeping its time.
WARNED_FLAG = {
    "not_assigned": "warned_assign",
    "not_handled": "warned_first_update",
    "past_close": "warned_close",
    "no_progress": "warned_progress",
}
WARN_COLUMN = {
    "not_assigned": "warn_assign_at",
    "not_handled": "warn_first_update_at",
    "past_close": "warn_close_at",
    "no_progress": "warn_progress_at",
}
# The progress limit runs while a mediator holds the case.
PROGRESS_STATUSES = (CaseStatus.ASSIGNED, CaseStatus.IN_MEDIATION)


@functools.cache
def _built_in() -> SlaPolicy:
    """The limits of a case no policy matched: the fields' defaults ("13710", warnings at 75 %,
    progress every 7 days), as an unsaved row."""
    return SlaPolicy(code=DEFAULT_POLICY_CODE, name="13710")


def _policy(case) -> SlaPolicy:
    return case.sla_policy or _built_in()


def warn_time(case, reason: str, due: datetime | None) -> datetime | None:
    """When the deadline `due` of `reason` is warned; None if its policy does not warn."""
    lead = _policy(case).warning_leads.get(reason)
    return None if lead is None or due is None else due - lead


def progress_runs(case) -> bool:
    return (
        case.status in PROGRESS_STATUSES
        and case.assigned_at is not None
        and case.clock_paused_at is None
        and progress_days(case) > 0
    )


def progress_days(case) -> int:
    return _policy(case).progress_every_days


def progress_deadline(case, start: datetime) -> datetime:
    return _add(case.sla_policy, start, days=progress_days(case))


def pending_progress(case) -> datetime | None:
    """The end of the progress limit's current period, while it runs."""
    return check_of(case).progress_due_at if progress_runs(case) else None


def progress_periods(case, due: datetime, now: datetime) -> tuple[list[datetime], datetime | None]:
    """From a period ending at `due`: the ends of the periods that passed before `now`
    (each one missed, oldest first) and the end of the period running at `now` (None if
    the policy has no next period)."""
    missed = []
    if progress_days(case) <= 0:
        return ([due] if due < now else []), (None if due < now else due)
    while due < now:
        missed.append(due)
        due = progress_deadline(case, due)
    return missed, due


def warnings_due(case, now: datetime, deadlines=None) -> list[tuple[datetime, str, datetime]]:
    """(warning time, reason, deadline) for each step whose clock still runs, whose warning
    time has passed and whose warning (or breach) is not recorded yet, oldest first.
    `deadlines` is pending_and_late(case), when the caller has it."""
    check = check_of(case)
    breached = breached_reasons(case)
    pending, _late = deadlines or pending_and_late(case)
    due = []
    for reason, deadline in pending.items():
        if reason in breached or getattr(check, WARNED_FLAG[reason]):
            continue
        warn = warn_time(case, reason, deadline)
        if warn is not None and warn < now:
            due.append((warn, reason, deadline))
    return sorted(due, key=lambda item: (item[0], list(REASONS).index(item[1])))


def place_warnings(case, now: datetime) -> None:
    """Keep each deadline's warning time beside it (for annotate_due_soon), and arm again a
    warning recorded for a deadline that has moved later since."""
    check = check_of(case)
    deadlines = {
        "not_assigned": case.assign_due_at,
        "not_handled": case.first_update_due_at,
        "past_close": case.close_due_at,
        "no_progress": check.progress_due_at,
    }
    for reason, due in deadlines.items():
        warn = warn_time(case, reason, due)
        setattr(check, WARN_COLUMN[reason], warn)
        if warn is None or warn > now:
            setattr(check, WARNED_FLAG[reason], False)


def due_soon(case, now: datetime) -> list[str]:
    """The deadlines in their warning window at `now`, as reasons (WARNINGS' keys): the
    clock runs, the step is not done, its warning time has passed and its deadline not.
    `annotate_due_soon` is its SQL twin."""
    windows = pending_deadlines(case)
    progress = pending_progress(case)
    if progress is not None:
        windows["no_progress"] = progress
    soon = []
    for reason, due in windows.items():
        warn = warn_time(case, reason, due)
        if warn is not None and warn < now <= due:
            soon.append(reason)
    return soon


def annotate_due_soon(queryset, now: datetime):
    """SQL twin of `due_soon`: adds `sla_due_soon`, from the warning times stored beside
    the deadlines (SlaCheck, written by rearm with every change of the case)."""
    check = {f"sla_{column}": F(f"sla_check__{column}") for column in WARN_COLUMN.values()}
    check["sla_progress_due_at"] = F("sla_check__progress_due_at")

    def window(warn: str, due: str) -> Q:
        return Q(**{f"sla_{warn}__lt": now, f"{due}__gte": now})

    running = Q(status__in=OPEN_STATUSES, clock_paused_at__isnull=True)
    soon = running & (
        (Q(assigned_at__isnull=True) & window("warn_assign_at", "assign_due_at"))
        | (
            Q(assigned_at__isnull=False, first_progress_at__isnull=True)
            & window("warn_first_update_at", "first_update_due_at")
        )
        | window("warn_close_at", "close_due_at")
        | (
            Q(status__in=PROGRESS_STATUSES, assigned_at__isnull=False)
            & window("warn_progress_at", "sla_progress_due_at")
        )
    )
    flag = When_(When(soon, then=Value(True)), default=Value(False), output_field=BooleanField())
    return queryset.alias(**check).annotate(sla_due_soon=flag)

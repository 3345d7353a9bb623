"""Recording what the clock says on the case timeline, each thing once and stamped at its
true time: a missed deadline (SLA_BREACH, at the deadline), a warning before a deadline
(SLA_WARNING, at the warning time) and a missed period of the progress limit
(PROGRESS_OVERDUE, at the period's end). Each sets its flag (or moves the progress period
on) on the SlaCheck row, so it is never recorded twice. The sweep records them in batches;
services record them before a change that would move or clear a deadline (escalation,
extension, reopening, a progress note, the case leaving the progress limit)."""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from common.bulk import insert_rows
from sla import clock
from sla.clock import FLAG_FOR, WARNED_FLAG

from .live import announce
from .models import Case, CaseEvent

# An event's columns; kind, actor (the system: none) and recorded_at are the same for a
# whole batch and go over once (bulk.insert_rows constants).
EVENT_COLUMNS = ("case_id", "at", "from_status", "to_status", "note", "data")
K = CaseEvent.Kind


def event_constants(recorded_at, kind: str = K.SLA_BREACH) -> dict:
    return {"kind": str(kind), "actor_id": None, "recorded_at": recorded_at}


def _row(case, at: datetime, note: str, data: dict) -> tuple:
    return (case.pk, at, case.status, case.status, note, data)


def breach_row(case, due: datetime, reason: str, label: str) -> tuple:
    """The breach event (EVENT_COLUMNS), stamped at the deadline, with the flag set."""
    setattr(case.sla_check, FLAG_FOR[reason], True)
    return _row(case, due, label, {"reason": reason, "deadline": due.isoformat()})


def warning_row(case, warn: datetime, reason: str, due: datetime, label: str) -> tuple:
    """The warning event, stamped at the warning time, with its flag set."""
    setattr(case.sla_check, WARNED_FLAG[reason], True)
    return _row(case, warn, label, {"reason": reason, "deadline": due.isoformat()})


@dataclass
class Records:
    """Rows to insert, by event kind; `insert` writes each kind in one statement."""

    breaches: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    overdue: list = field(default_factory=list)

    def insert(self, recorded_at: datetime) -> None:
        for kind, rows in (
            (K.SLA_BREACH, self.breaches),
            (K.SLA_WARNING, self.warnings),
            (K.PROGRESS_OVERDUE, self.overdue),
        ):
            constants = event_constants(recorded_at, kind)
            insert_rows(CaseEvent, EVENT_COLUMNS, rows, constants=constants)


@dataclass
class Progress:
    """What the progress limit of one case recorded: were periods missed, and was the
    warning of the period running now recorded (both worth telling while it runs)."""

    missed: bool = False
    warned_now: bool = False


def progress_labels() -> tuple[str, str]:
    """(warning, missed period) notes, translated once per batch."""
    return str(clock.WARNINGS["no_progress"]), str(clock.PROGRESS_OVERDUE)


def progress_passed(case, now: datetime, records: Records, labels=None) -> Progress:
    """Record the progress limit up to `now` for one case whose SlaCheck row the caller
    holds: each period missed (and its warning, if not recorded yet) once, at its true
    time, then the warning of the period running now if its time has passed. The row
    moves on to the period running now; the caller saves it."""
    check = clock.check_of(case)
    due = check.progress_due_at
    if due is None:
        return Progress()
    warn_label, overdue_label = labels or progress_labels()
    missed, current = clock.progress_periods(case, due, now)
    days = clock.progress_days(case)
    warned, warned_now = check.warned_progress, False

    def warning(end: datetime) -> bool:
        warn = clock.warn_time(case, "no_progress", end)
        if warn is None or warn >= now:
            return False
        records.warnings.append(_row(case, warn, warn_label, _progress_data(end)))
        return True

    for end in missed:
        if not warned:
            warning(end)
        records.overdue.append(
            _row(case, end, overdue_label, _progress_data(end) | {"every_days": days})
        )
        warned = False  # the next period has its own warning
    if current is not None and not warned:
        warned = warned_now = warning(current)
    check.warned_progress = warned
    if missed:
        check.progress_due_at = current
        check.warn_progress_at = clock.warn_time(case, "no_progress", current)
    return Progress(missed=bool(missed), warned_now=warned_now)


def _progress_data(end: datetime) -> dict:
    return {"reason": "no_progress", "deadline": end.isoformat()}


def record_missed(case: Case, now: datetime) -> int:
    """Record, for one case locked by the caller, the breaches and the warnings of running
    deadlines the sweep has not recorded yet (it was down, or has not come by). Services
    call it before moving or clearing a deadline. No notices: the person acting on the
    case is the one they would chase. The caller saves the SlaCheck (ledger.save_case
    re-arms it)."""
    clock.check_of(case)  # a case loaded without its row gets a fresh one to set flags on
    records = Records()
    records.warnings = [
        warning_row(case, warn, reason, due, str(clock.WARNINGS[reason]))
        for warn, reason, due in clock.warnings_due(case, now)
    ]
    records.breaches = [
        breach_row(case, due, reason, str(clock.REASONS[reason]))
        for due, reason, _still_open in missed_deadlines(case, now)
    ]
    records.insert(timezone.now())
    if records.breaches:
        announce(case)
    return len(records.breaches)


def record_progress_passed(case: Case, now: datetime) -> None:
    """Before the progress limit restarts (a progress note) or stops (the case leaves the
    mediator or the open states, the clock is paused): what it missed up to now stays on
    record. No notices, as in record_missed."""
    records = Records()
    progress_passed(case, now, records)
    records.insert(timezone.now())


def missed_deadlines(case: Case, now: datetime, deadlines=None) -> list[tuple[datetime, str, bool]]:
    """(deadline, reason, clock still running) for each deadline passed and not recorded,
    oldest first. `deadlines` is clock.pending_and_late(case), when the caller has it."""
    already = clock.breached_reasons(case)
    pending, late = deadlines or clock.pending_and_late(case)
    missed = [
        (due, reason, still_open)
        for still_open, by_reason in ((True, pending), (False, late))
        for reason, due in by_reason.items()
        if reason not in already and due < now
    ]
    return sorted(missed, key=lambda item: (item[0], list(clock.REASONS).index(item[1])))

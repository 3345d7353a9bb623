"""Recording missed deadlines on the case timeline: one SLA_BREACH event per deadline,
stamped at the true deadline, its flag set on the SlaCheck row so it is never recorded
twice. The sweep records them in batches; services record them before a change that would
move or clear a deadline (escalation, extension, reopening)."""

from datetime import datetime

from django.utils import timezone

from common.bulk import insert_rows
from sla import clock
from sla.clock import FLAG_FOR

from .live import announce
from .models import Case, CaseEvent

# A breach event's columns; kind, actor (the system: none) and recorded_at are the same
# for a whole batch and go over once (bulk.insert_rows constants).
# A breach event's columns; kind, actor (the system: none) and recorded_at are the same
# for a whole batch and go over once (bulk.insert_rows constants).
EVENT_COLUMNS = ("case_id", "at", "from_status", "to_status", "note", "data")


def event_constants(recorded_at) -> dict:
    return {"kind": CaseEvent.Kind.SLA_BREACH.value, "actor_id": None, "recorded_at": recorded_at}


def breach_row(case, due: datetime, reason: str, label: str) -> tuple:
    """The breach event (EVENT_COLUMNS), stamped at the deadline, with the flag set."""
    setattr(case.sla_check, FLAG_FOR[reason], True)
    data = {"reason": reason, "deadline": due.isoformat()}
    return (case.pk, due, case.status, case.status, label, data)


def record_missed(case: Case, now: datetime) -> int:
    """Record, for one case locked by the caller, the breaches the sweep has not recorded
    yet (it was down, or has not come by). Services call it before moving or clearing a
    deadline. No notices: the person acting on the case is the one they would chase. The
    caller saves the SlaCheck (ledger.save_case re-arms it)."""
    clock.check_of(case)  # a case loaded without its row gets a fresh one to set flags on
    recorded_at = timezone.now()
    events = [
        breach_row(case, due, reason, str(clock.REASONS[reason]))
        for due, reason, _still_open in missed_deadlines(case, now)
    ]
    insert_rows(CaseEvent, EVENT_COLUMNS, events, constants=event_constants(recorded_at))
    if events:
        announce(case)
    return len(events)


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

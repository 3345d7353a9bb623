"""The steps every workflow service takes: lock the case, check, write, append the
CaseEvent, re-arm the SLA sweep. One place, so every action takes the locks in the same
order and leaves the same evidence."""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import StateConflict
from sla import clock
from sla.models import SlaCheck

from . import handoffs, party_sms
from .breaches import record_missed, record_progress_passed
from .live import announce
from .models import Case, CaseEvent


class TransitionError(StateConflict):
    """The action is not allowed in the case's current state."""

    def __init__(self, case: Case, action: str):
        self.case = case
        super().__init__(
            _("This case is “%(status)s”; it cannot be %(action)s now.")
            % {"status": case.get_status_display(), "action": action}
        )


def lock_case(case: Case) -> Case:
    """Lock the case for a change: first its SlaCheck row, the lock the SLA sweep takes
    (SKIP LOCKED, so the sweep passes over a case being changed, and a change waits for a
    sweep batch holding it), then the case row, which serialises changes among themselves.
    Always in this order, so two of them never wait on each other."""
    check = SlaCheck.objects.select_for_update().filter(case_id=case.pk).first()
    locked = (
        Case.objects.select_for_update(of=("self",))
        .select_related("handling_area", "category", "sla_policy")
        .get(pk=case.pk)
    )
    if check is not None:
        locked.sla_check = check  # read under its lock: what the sweep last wrote
    return locked


def require(allowed: bool):
    if not allowed:
        raise PermissionDenied(_("You may not do this for this case."))


def require_status(case: Case, allowed: Iterable[str], action: str):
    if case.status not in set(allowed):
        raise TransitionError(case, action)


def append_event(case, *, kind, actor, from_status="", note="", data=None, at=None) -> CaseEvent:
    """The timeline entry of a change, and the hand-off: whoever must act next is told in
    the same transaction (handoffs.py says who), and the applicant by SMS at the steps
    they follow (party_sms.py)."""
    event = CaseEvent.objects.create(
        case=case,
        kind=kind,
        actor=actor,
        at=at or timezone.now(),
        from_status=from_status,
        to_status=case.status,
        note=note,
        data=data or {},
    )
    handoffs.tell(event)
    party_sms.tell(event)
    announce(case)
    return event


def save_case(case: Case, *fields: str):
    """Save the changed fields and re-arm the SLA sweep: any state change can add, move or
    remove a deadline, so the next check time is recomputed here, under the row lock. A
    change that stops the progress limit (resolved, closed, escalated, paused…) first
    records what it missed, which the re-arming would otherwise erase."""
    case.save(update_fields=[*fields, "updated_at"])
    if not clock.progress_runs(case):
        record_progress_passed(case, timezone.now())
    clock.rearm(case)


def note_progress(case: Case):
    """A progress note: the progress limit starts a new period when the case is saved
    (a period that ended before the note stays recorded as missed)."""
    check = clock.check_of(case)
    record_progress_passed(case, timezone.now())
    check.progress_due_at = None


def record_missed_breaches(case: Case):
    """Before a change that moves or clears a deadline (escalation, extension, reopening),
    record any breach the sweep has not come by to record yet: the change would otherwise
    erase the evidence that the deadline was missed."""
    record_missed(case, timezone.now())


def end_pause(case: Case, actor, note: str = "", *, automatic: bool = True) -> None:
    """Resume a paused clock: the paused time is added to the closing deadline and the
    resumption recorded. By hand (case_resume_clock), or automatically when a case leaves
    mediation while paused (resolved, closed, referred, withdrawn, escalated), so the on-time
    judgement, the colour and the breaches agree. Call under the row lock, before the status
    changes."""
    if case.clock_paused_at is None:
        return
    paused_for = timezone.now() - case.clock_paused_at
    case.close_due_at += paused_for
    case.clock_paused_at = None
    save_case(case, "clock_paused_at", "close_due_at")
    data = {"paused_seconds": int(paused_for.total_seconds())}
    if automatic:
        data["automatic"] = True
        note = note or _("The clock resumes as the case leaves mediation.")
    append_event(
        case,
        kind=CaseEvent.Kind.CLOCK_RESUMED,
        actor=actor,
        from_status=case.status,
        note=note,
        data=data,
    )

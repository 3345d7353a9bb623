"""Checking a resolution (核查) before it counts: per the case's policy, a resolved case waits
for a check by someone other than the person who resolved it (another person of the handling
unit or the level above; or the grid worker who filed it, on site). Pass → closed as a
substantive resolution; fail → back to the handler with the reason, the closing clock still
running. The check has its own time limit, watched by the shared exactly-once timers."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.models import User
from sla import clock, timers
from sla.models import VerifyBy

from .. import permissions
from ..ledger import append_event, end_pause, lock_case, require, require_status, save_case
from ..models import Case, CaseEvent, CaseStatus, CloseKind
from ..supervision_models import VERIFY_DUE

S = CaseStatus


def start_check(case: Case, now) -> bool:
    """Called by case_resolve on the locked case: sets the check's deadline when the policy
    asks for a check, and arms its timer. Returns whether a check is needed."""
    policy = case.sla_policy
    if policy is None or policy.verify_by == VerifyBy.OFF:
        case.verify_due_at = None
        return False
    case.verify_due_at = clock.after_days(policy, now, policy.verify_within_days)
    timers.arm(VERIFY_DUE, case.pk, case.verify_due_at, case_id=case.pk)
    return True


def may_check(user, case: Case) -> bool:
    """Whether `user` may check this resolved case. Never the person who resolved it."""
    if case.verify_due_at is None or user.pk == case.resolved_by_id:
        return False
    if case.filed_by_id == user.pk and case.sla_policy_id and _by_filer(case):
        return True
    return permissions.is_manager(user, case)


def _by_filer(case: Case) -> bool:
    return case.sla_policy.verify_by == VerifyBy.FILER


@transaction.atomic
def case_verify(*, case: Case, actor: User, passed: bool, note: str = "") -> Case:
    """The check of a resolution: pass closes it as substantively resolved; fail sends it
    back to the handler (in mediation, clock running) with the reason."""
    case = lock_case(case)
    require_status(case, [S.RESOLVED], _("checked"))
    require(case.verify_due_at is not None and may_check(actor, case))
    note = (note or "").strip()
    if not passed and not note:
        raise ValidationError({"note": [_("Say what is not right, for the handler to fix.")]})
    timers.disarm(VERIFY_DUE, case.pk)
    if passed:
        return close_checked(case, actor, note)
    case.status = S.IN_MEDIATION
    case.resolved_at = case.resolved_by = case.verify_due_at = None
    save_case(case, "status", "resolved_at", "resolved_by", "verify_due_at")
    append_event(
        case, kind=CaseEvent.Kind.VERIFY_FAILED, actor=actor, from_status=S.RESOLVED, note=note
    )
    return case


def close_checked(case: Case, actor: User, note: str) -> Case:
    """Close a locked, resolved case whose check passed (case_verify, or case_close by a
    person who may check)."""
    checked_late = timezone.now() > case.verify_due_at
    end_pause(case, actor)
    case.status, case.closed_at = S.CLOSED, timezone.now()
    case.close_kind = CloseKind.SUBSTANTIVE
    case.closed_on_time = case.closed_at <= case.close_due_at
    case.verify_due_at = None
    save_case(case, "status", "closed_at", "close_kind", "closed_on_time", "verify_due_at")
    append_event(
        case,
        kind=CaseEvent.Kind.CLOSED,
        actor=actor,
        from_status=S.RESOLVED,
        note=note,
        data={"close_kind": case.close_kind, "checked": True, "checked_late": checked_late},
    )
    return case

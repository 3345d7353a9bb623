"""A department's part in a dispatched case (部门协同): sign for (签收), return with a reason
(退回), progress, completion report (办结反馈) and the dispatching level's verification.

The case row is locked first (ledger.lock_case, the order every service keeps), then the
department's live task; the task's state is what makes an action legal, so a second sign-for
or a report on a returned task is a 409, like any other transition."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import StateConflict
from grids.models import Assignment, Department, Role, User
from notifications.services import notify
from sla import clock, timers

from .. import permissions
from ..attachments import store_attachments, validate_attachments, validate_note_and_photos
from ..department_models import SIGN_FOR_DUE, SIGN_FOR_WARNING, DepartmentTask
from ..ledger import append_event, lock_case, require
from ..models import Case, CaseEvent

T = DepartmentTask.Status


class TaskStateError(StateConflict):
    def __init__(self, task: DepartmentTask | None, action: str):
        state = task.get_status_display() if task else _("no live task")
        super().__init__(
            _("The department's task is “%(state)s”; it cannot be %(action)s now.")
            % {"state": state, "action": action}
        )


def own_task(user, case: Case) -> DepartmentTask | None:
    """The viewer's department's live task on this case, from the prefetched list when the
    case page prefetched it."""
    mine = set(permissions.liaison_departments(user))
    if not mine:
        return None
    return next(
        (t for t in case.department_tasks.all() if t.department_id in mine and t.is_live),
        None,
    )


def reported_task(case: Case) -> DepartmentTask | None:
    """The report the dispatching level verifies next: the earliest one (task_verify takes
    the same), from the prefetched list on the case page."""
    reported = [t for t in case.department_tasks.all() if t.status == T.REPORTED]
    return min(reported, key=lambda t: (t.reported_at, t.id), default=None)


# An assisting department answers for its part within this many (working) days, or by the
# case's closing deadline if that comes first.
ASSIST_REPORT_DAYS = 5


def department_liaisons(department: Department) -> list[User]:
    return list(
        User.objects.filter(
            pk__in=Assignment.objects.active()
            .filter(department=department, role=Role.DEPARTMENT_LIAISON)
            .values("user_id")
        )
    )


def open_task(case: Case, department: Department, *, actor, instructions: str, role: str):
    """Called by case_dispatch under the case lock: the department's task, its sign-for
    deadline (the policy's assignment limit: 签收 is the department's "acceptance") and its
    report deadline (the lead: the case's closing deadline; an assisting department its own,
    shorter one, since the lead needs its answer before closing)."""
    now = timezone.now()
    report_due = case.close_due_at
    if role == DepartmentTask.Role.ASSIST:
        own = clock.extend(case.sla_policy, now, ASSIST_REPORT_DAYS)
        report_due = min(own, report_due) if report_due else own
    live = case.department_tasks.filter(department=department, status__in=DepartmentTask.LIVE)
    if live.exists():
        return live.get()
    task = DepartmentTask.objects.create(
        case=case,
        department=department,
        role=role,
        instructions=instructions,
        dispatched_by=actor,
        dispatched_at=now,
        sign_due_at=clock.assign_deadline(case.sla_policy, now),
        report_due_at=report_due,
    )
    # A missed sign-for is recorded once by the sweep (department_timers.sign_for_due), and
    # warned of before, as the assignment it stands for is (the policy's share or hours).
    timers.arm(SIGN_FOR_DUE, task.pk, task.sign_due_at, case_id=case.pk)
    warn_at = clock.warn_time(case, "not_assigned", task.sign_due_at)
    if warn_at is not None:
        timers.arm(SIGN_FOR_WARNING, task.pk, warn_at, case_id=case.pk)
    return task


def _sign_for_settled(task: DepartmentTask) -> None:
    """Signed for or returned: neither the deadline nor its warning fires any more."""
    timers.disarm(SIGN_FOR_DUE, task.pk)
    timers.disarm(SIGN_FOR_WARNING, task.pk)


def _locked_task(case: Case, actor, states: Iterable[str], action: str) -> DepartmentTask:
    """The actor's department's live task, locked; 403 when the actor is no liaison of a
    department working on the case, 409 when its task is not in one of `states`."""
    mine = permissions.liaison_departments(actor)
    require(bool(mine))
    task = (
        DepartmentTask.objects.select_for_update()
        .filter(case=case, department_id__in=mine)
        .order_by("-id")
        .first()
    )
    require(task is not None)
    if task.status not in set(states):
        raise TaskStateError(task, action)
    return task


def _text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: [message]})
    return value


@transaction.atomic
def task_sign(*, case: Case, actor: User, note: str = "") -> DepartmentTask:
    case = lock_case(case)
    task = _locked_task(case, actor, [T.DISPATCHED], _("signed for"))
    now = timezone.now()
    task.status, task.signed_at, task.signed_by = T.SIGNED, now, actor
    task.signed_on_time = now <= task.sign_due_at
    task.save()
    _sign_for_settled(task)
    append_event(
        case,
        kind=CaseEvent.Kind.DEPT_SIGNED,
        actor=actor,
        from_status=case.status,
        note=(note or "").strip(),
        data={"department": task.department.name, "on_time": task.signed_on_time},
    )
    return task


@transaction.atomic
def task_return(*, case: Case, actor: User, reason: str) -> DepartmentTask:
    """退回: not this department's business; the dispatching centre decides again."""
    case = lock_case(case)
    task = _locked_task(case, actor, [T.DISPATCHED, T.SIGNED], _("returned"))
    reason = _text(reason, "reason", _("Say why the department returns the case."))
    task.status, task.returned_at, task.return_reason = T.RETURNED, timezone.now(), reason
    # The case stays visible to the department (its record of what it returned and why);
    # the centre dispatches again, to it or another one, which opens a new task.
    task.save()
    _sign_for_settled(task)
    append_event(
        case,
        kind=CaseEvent.Kind.DEPT_RETURNED,
        actor=actor,
        from_status=case.status,
        note=reason,
        data={"department": task.department.name},
    )
    return task


@transaction.atomic
def task_progress(*, case: Case, actor: User, note: str, photos: Iterable = ()) -> DepartmentTask:
    case = lock_case(case)
    task = _locked_task(case, actor, [T.SIGNED], _("updated"))
    photos = list(photos)
    note = _text(note, "note", _("Write what was done."))
    validate_attachments(photos)
    event = append_event(
        case,
        kind=CaseEvent.Kind.PROGRESS,
        actor=actor,
        from_status=case.status,
        note=note,
        data={"department": task.department.name},
    )
    store_attachments(case, photos, actor=actor, event=event)
    return task


@transaction.atomic
def task_report(*, case: Case, actor: User, note: str, photos: Iterable = ()) -> DepartmentTask:
    """办结反馈: the department says its part is done, with evidence; the dispatching level
    verifies it."""
    case = lock_case(case)
    task = _locked_task(case, actor, [T.SIGNED], _("reported complete"))
    photos = list(photos)
    validate_note_and_photos(note, photos, _("Write what the department did and the result."))
    task.status, task.reported_at, task.report = T.REPORTED, timezone.now(), note.strip()
    task.save()
    event = append_event(
        case,
        kind=CaseEvent.Kind.DEPT_REPORTED,
        actor=actor,
        from_status=case.status,
        note=task.report,
        data={"department": task.department.name},
    )
    store_attachments(case, photos, actor=actor, event=event)
    return task


@transaction.atomic
def task_verify(*, case: Case, actor: User, decision: str, note: str = "") -> DepartmentTask:
    """The dispatching level (whoever runs the case's queue) checks the report: pass ends the
    department's part; fail sends it back to the department, signed for, with the reason."""
    case = lock_case(case)
    require(permissions.is_manager(actor, case))
    if decision not in ("pass", "fail"):
        raise ValidationError({"decision": [_("Choose pass or fail.")]})
    note = (note or "").strip()
    if decision == "fail" and not note:
        raise ValidationError({"note": [_("Say what is missing from the report.")]})
    task = (
        DepartmentTask.objects.select_for_update()
        .select_related("department")
        .filter(case=case, status=T.REPORTED)
        .order_by("reported_at", "id")
        .first()
    )
    if task is None:
        raise TaskStateError(None, _("verified"))
    passed = decision == "pass"
    task.status = T.DONE if passed else T.SIGNED
    task.verified_at, task.verified_by = timezone.now(), actor
    task.save()
    append_event(
        case,
        kind=CaseEvent.Kind.DEPT_VERIFIED,
        actor=actor,
        from_status=case.status,
        note=note,
        data={"department": task.department.name, "passed": passed, "task": task.pk},
    )
    # The verified department's liaisons (a lead or an assisting one) learn the result.
    notify(
        users=[u for u in department_liaisons(task.department) if u.pk != actor.pk],
        case=case,
        kind="case_dept_verified",
        title=(
            _("Your completion report passed: %(number)s")
            if passed
            else _("Your completion report was sent back: %(number)s")
        )
        % {"number": case.number},
        body=note,
    )
    return task

"""The sign-for deadline (签收时限) of a department's task, through the shared exactly-once
timers (sla/timers.py): armed when the task is opened, disarmed when it is signed for or
returned. A missed one is recorded once on the case timeline, stamped at the true deadline
(a sweep after an outage records it once, at the time it was missed), and the dispatching
centre and the department's liaisons are told. Its warning (即将超时) is a timer of its own,
armed and disarmed with it: recorded once at the warning time and told to the liaisons,
who must sign for."""

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from common.bulk import insert_rows
from notifications.services import ASSIGNER_ROLES, Message, holders, notify_many
from sla import timers

from .breaches import EVENT_COLUMNS, event_constants
from .department_models import SIGN_FOR_DUE, SIGN_FOR_WARNING, DepartmentTask
from .models import CaseEvent
from .services.departments import department_liaisons


@timers.handler(SIGN_FOR_DUE)
def sign_for_due(due: list[timers.Due], now: datetime) -> None:
    deadlines = {d.object_id: d.due_at for d in due}
    # Locked and re-checked: a liaison signing for at this moment either committed first
    # (the task is no longer awaiting sign-for: nothing to record) or waits for us.
    tasks = list(
        DepartmentTask.objects.select_for_update(of=("self",))
        .select_related("case", "case__handling_area", "department")
        .filter(pk__in=deadlines, status=DepartmentTask.Status.DISPATCHED)
    )
    if not tasks:
        return
    rows, messages = [], []
    # Who to tell, looked up once per area and per department for the whole batch (a late
    # sweep after an outage can bring many misses of one centre and one bureau at once).
    centres: dict[int, list] = {}
    liaisons: dict[int, list] = {}
    for task in tasks:
        at = deadlines[task.pk]
        label = _("%(department)s did not sign for in time") % {"department": task.department.name}
        data = {
            "reason": "not_signed_for",
            "deadline": at.isoformat(),
            "department": task.department.name,
            "task": task.pk,
        }
        rows.append((task.case_id, at, task.case.status, task.case.status, label, data))
        area = task.case.handling_area
        if area.pk not in centres:
            centres[area.pk] = holders(area=area, roles=ASSIGNER_ROLES)
        if task.department_id not in liaisons:
            liaisons[task.department_id] = department_liaisons(task.department)
        people = {u.pk: u for u in centres[area.pk] + liaisons[task.department_id]}
        title = _("Not signed for in time: %(number)s") % {"number": task.case.number}
        messages.append(
            Message(
                users=people.values(),
                case=task.case,
                kind="sla_not_signed_for",
                title=title,
                body=label,
            )
        )
    insert_rows(CaseEvent, EVENT_COLUMNS, rows, constants=event_constants(timezone.now()))
    notify_many(messages)


@timers.handler(SIGN_FOR_WARNING)
def sign_for_warning(due: list[timers.Due], now: datetime) -> None:
    warned_at = {d.object_id: d.due_at for d in due}
    # Locked and re-checked like the deadline: a task signed for or returned meanwhile
    # needs no warning.
    tasks = list(
        DepartmentTask.objects.select_for_update(of=("self",))
        .select_related("case", "department")
        .filter(pk__in=warned_at, status=DepartmentTask.Status.DISPATCHED)
    )
    if not tasks:
        return
    rows, messages = [], []
    liaisons: dict[int, list] = {}
    for task in tasks:
        label = _("%(department)s: sign for soon") % {"department": task.department.name}
        data = {
            "reason": "not_signed_for",
            "deadline": task.sign_due_at.isoformat(),
            "department": task.department.name,
            "task": task.pk,
        }
        at = warned_at[task.pk]
        rows.append((task.case_id, at, task.case.status, task.case.status, label, data))
        if now > task.sign_due_at:
            continue  # a sweep after an outage: the miss itself is what is told
        if task.department_id not in liaisons:
            liaisons[task.department_id] = department_liaisons(task.department)
        title = _("Sign for soon: %(number)s") % {"number": task.case.number}
        messages.append(
            Message(
                users=liaisons[task.department_id],
                case=task.case,
                kind="sla_warn_not_signed_for",
                title=title,
                body=label,
            )
        )
    constants = event_constants(timezone.now(), CaseEvent.Kind.SLA_WARNING)
    insert_rows(CaseEvent, EVENT_COLUMNS, rows, constants=constants)
    notify_many(messages)

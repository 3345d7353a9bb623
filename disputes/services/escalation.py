"""Moving a case up and the clock: escalation, risk, dispatch (发令), extensions (延期) and
the judicial-confirmation pause."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.models import Department, User
from grids.workdays import place_estimate
from notifications.services import ASSIGNER_ROLES, holders, notify
from sla import clock

from .. import permissions
from ..ledger import (
    TransitionError,
    append_event,
    end_pause,
    lock_case,
    record_missed_breaches,
    require,
    require_status,
    save_case,
)
from ..models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    CaseStatus,
    ExtensionRequest,
    RiskLevel,
)
from ..routing import (
    ESCALATABLE,
    HANDLING_ORDER,
    LEVEL_FOR_RISK,
    RISK_ORDER,
    parent_queue,
)
from .departments import department_liaisons, open_task

S = CaseStatus


# --- escalation, risk, dispatch ---------------------------------------------------------------


def escalate_locked(case: Case, *, actor, reason: str, at_least: str | None = None) -> Case:
    """Move a (locked) case to the parent level's queue: a new assignment deadline there,
    the original close deadline kept, the previous mediator kept as assisting staff."""
    level, area = parent_queue(case, at_least)
    if area is None:
        raise TransitionError(case, _("escalated (it is already at the top level)"))
    record_missed_breaches(case)
    end_pause(case, actor)
    from_status, from_area = case.status, case.handling_area
    previous_mediator = case.mediator
    now = timezone.now()
    case.handling_level, case.handling_area = level, area
    case.status = S.FILED
    case.mediator = None
    # The new level starts its own assignment and first-handling steps (the earlier ones
    # stay in the timeline); only the closing deadline carries over.
    case.assigned_at = case.first_update_due_at = case.first_progress_at = None
    case.assign_due_at = clock.assign_deadline(case.sla_policy, now)
    check = clock.check_of(case)
    check.breached_assign = check.breached_first_update = False
    save_case(
        case,
        "handling_level",
        "handling_area",
        "status",
        "mediator",
        "assigned_at",
        "first_update_due_at",
        "first_progress_at",
        "assign_due_at",
    )
    if previous_mediator is not None:
        case.assistants.add(previous_mediator)
    append_event(
        case,
        kind=CaseEvent.Kind.ESCALATED,
        actor=actor,
        from_status=from_status,
        note=reason,
        data={"from": from_area.name, "to": area.name, "level": level},
    )

    notify(
        users=holders(area=area, roles=ASSIGNER_ROLES),
        case=case,
        kind="escalated",
        title=_("Case %(number)s escalated to you") % {"number": case.number},
        body=f"{case.cause}\n{reason}",
    )
    return case


@transaction.atomic
def case_escalate(*, case: Case, actor: User, reason: str) -> Case:
    case = lock_case(case)
    require(permissions.is_manager(actor, case) or case.mediator_id == actor.pk)
    require_status(case, ESCALATABLE, _("escalated"))
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the case is escalated.")]})
    return escalate_locked(case, actor=actor, reason=reason.strip())


@transaction.atomic
def case_raise_risk(*, case: Case, actor: User, risk_level: str, reason: str) -> Case:
    """Raising the risk moves the case up: major → street centre, serious → district."""
    case = lock_case(case)
    require(permissions.is_manager(actor, case) or case.mediator_id == actor.pk)
    require_status(case, ESCALATABLE, _("given a higher risk level"))
    errors = {}
    if risk_level not in RiskLevel.values or RISK_ORDER.index(risk_level) <= RISK_ORDER.index(
        case.risk_level
    ):
        errors["risk_level"] = [_("Choose a higher risk level than the current one.")]
    if not (reason or "").strip():
        errors["reason"] = [_("Say why the risk is higher.")]
    if errors:
        raise ValidationError(errors)
    old = case.risk_level
    case.risk_level = risk_level
    save_case(case, "risk_level")
    append_event(
        case,
        kind=CaseEvent.Kind.RISK_RAISED,
        actor=actor,
        from_status=case.status,
        note=reason.strip(),
        data={"from": old, "to": risk_level},
    )

    target = LEVEL_FOR_RISK.get(risk_level)
    if target and HANDLING_ORDER.index(case.handling_level) < HANDLING_ORDER.index(target):
        escalate_locked(case, actor=actor, reason=reason.strip(), at_least=target)
    return case


@transaction.atomic
def case_dispatch(
    *, case: Case, actor: User, department: Department, note: str, assisting=()
) -> Case:
    """发令 / 分拨: hand the case to a district department, which leads from now on; the
    assisting departments (配合) each get a linked task with its own deadline."""
    case = lock_case(case)
    require(permissions.is_manager(actor, case))
    require_status(case, ESCALATABLE, _("dispatched"))
    if not (note or "").strip():
        raise ValidationError({"note": [_("Say what the department should do.")]})
    assisting = [d for d in assisting if d.pk != department.pk]
    old = case.lead_department
    case.lead_department = department
    save_case(case, "lead_department")
    # The department's own record of its part: sign-for deadline, report, verification.
    task = open_task(case, department, actor=actor, instructions=note, role="lead")
    helpers = [open_task(case, d, actor=actor, instructions=note, role="assist") for d in assisting]
    append_event(
        case,
        kind=CaseEvent.Kind.DISPATCHED,
        actor=actor,
        from_status=case.status,
        note=note,
        data={
            "department": department.name,
            "from": old.name if old else "",
            "task": task.pk,
            "assisting": [d.name for d in assisting],
        },
    )

    for each in [task, *helpers]:
        notify(
            users=department_liaisons(each.department),
            case=case,
            kind="dispatched",
            title=_("Case %(number)s dispatched to %(dept)s")
            % {"number": case.number, "dept": each.department.name},
            body=note,
        )
    return case


# --- extensions and the judicial-confirmation pause -------------------------------------------


@transaction.atomic
def extension_request(*, case: Case, actor: User, days: int, reason: str):

    case = lock_case(case)
    require(case.mediator_id == actor.pk or permissions.is_manager(actor, case))
    require_status(case, OPEN_STATUSES, _("extended"))
    errors = {}
    if not isinstance(days, int) or not 1 <= days <= 60:
        errors["days"] = [_("Ask for 1 to 60 days.")]
    if not (reason or "").strip():
        errors["reason"] = [_("Say why more time is needed.")]
    elif clock.extend(case.sla_policy, case.close_due_at, days) <= timezone.now():
        # More time that ends in the past relieves nobody: ask for enough days.
        errors["days"] = [_past_extension_message(case, days)]
    if errors:
        raise ValidationError(errors)
    if case.extensions.filter(status=ExtensionRequest.Status.PENDING).exists():
        raise TransitionError(case, _("given another extension request while one is pending"))
    request = ExtensionRequest.objects.create(
        case=case, days=days, reason=reason.strip(), requested_by=actor
    )
    append_event(
        case,
        kind=CaseEvent.Kind.EXTENSION_REQUESTED,
        actor=actor,
        from_status=case.status,
        note=reason.strip(),
        data={"days": days, "request": request.pk},
    )

    # The level above decides, so it is told: the staff of the next queue up.
    _level, above = parent_queue(case)
    notify(
        users=holders(area=above, roles=ASSIGNER_ROLES),
        case=case,
        kind="extension_requested",
        title=_("Extension of %(days)s days requested: %(number)s")
        % {"days": days, "number": case.number},
        body=reason.strip(),
    )
    return request


@transaction.atomic
def extension_decide(*, extension, actor: User, approve: bool, note: str = ""):

    case = lock_case(extension.case)
    extension = ExtensionRequest.objects.select_for_update().get(pk=extension.pk)
    require(permissions.approves_extensions(actor, case))
    if extension.status != ExtensionRequest.Status.PENDING:
        raise TransitionError(case, _("decided again (the request is already decided)"))
    if approve and case.status not in OPEN_STATUSES:
        # A closed case's on-time flag was judged against the deadline it had; moving the
        # deadline afterwards would make the ledger contradict itself. Refusing stays possible.
        raise TransitionError(case, _("given more time"))
    now = timezone.now()
    if approve and clock.extend(case.sla_policy, case.close_due_at, extension.days) <= now:
        # The request sat undecided until even the extended deadline had passed: approving
        # would leave the case red with a deadline nobody can meet. Refuse it instead, and
        # the mediator asks again for the days actually needed.
        raise ValidationError(
            {
                "approve": [
                    _past_extension_message(case, extension.days)
                    + " "
                    + _("Refuse this request; the mediator can ask again for enough days.")
                ]
            }
        )
    extension.status = "approved" if approve else "refused"
    extension.decided_by, extension.decided_at, extension.decision_note = actor, now, note
    extension.old_close_due_at = case.close_due_at
    if approve:
        record_missed_breaches(case)  # a deadline already missed stays missed in the timeline
        case.close_due_at = clock.extend(case.sla_policy, case.close_due_at, extension.days)
        extension.new_close_due_at = case.close_due_at
        if case.close_due_at > now:
            clock.check_of(case).breached_close = False  # a new deadline can be missed again
        save_case(case, "close_due_at")
    extension.save()
    append_event(
        case,
        kind=CaseEvent.Kind.EXTENSION_APPROVED if approve else CaseEvent.Kind.EXTENSION_REFUSED,
        actor=actor,
        from_status=case.status,
        note=note,
        data={
            "days": extension.days,
            "close_due_at": case.close_due_at.isoformat() if approve else "",
        },
    )

    title = (
        _("Extension approved: %(number)s") if approve else _("Extension refused: %(number)s")
    ) % {"number": case.number}
    notify(
        users=[extension.requested_by],
        case=case,
        kind="extension_approved" if approve else "extension_refused",
        title=title,
        body=note,
    )
    return extension


def _past_extension_message(case: Case, days: int) -> str:
    new_due = timezone.localtime(clock.extend(case.sla_policy, case.close_due_at, days))
    return _("%(days)s more days would end on %(date)s, which has already passed.") % {
        "days": days,
        "date": f"{new_due:%Y-%m-%d %H:%M}",
    }


@transaction.atomic
def case_pause_clock(*, case: Case, actor: User, note: str = "") -> Case:
    """While a court reviews a judicial-confirmation request the closing clock may stop, if
    the case's policy says so."""
    case = lock_case(case)
    require(case.mediator_id == actor.pk or permissions.is_manager(actor, case))
    require_status(case, [S.IN_MEDIATION], _("paused"))
    if not (case.sla_policy and case.sla_policy.pause_for_judicial_review):
        raise TransitionError(case, _("paused (its policy does not allow pausing)"))
    if case.clock_paused_at is not None:
        raise TransitionError(case, _("paused again"))
    case.clock_paused_at = timezone.now()
    save_case(case, "clock_paused_at")
    append_event(
        case, kind=CaseEvent.Kind.CLOCK_PAUSED, actor=actor, from_status=case.status, note=note
    )
    return case


@transaction.atomic
def case_resume_clock(*, case: Case, actor: User, note: str = "") -> Case:
    case = lock_case(case)
    require(case.mediator_id == actor.pk or permissions.is_manager(actor, case))
    require_status(case, OPEN_STATUSES, _("resumed"))
    if case.clock_paused_at is None:
        raise TransitionError(case, _("resumed (its clock is running)"))
    # A deadline missed before the pause began is recorded at its true time, before it moves.
    record_missed_breaches(case)
    end_pause(case, actor, note, automatic=False)
    return case


# --- a year's calendar filled in ---------------------------------------------------------------

DEADLINE_FIELDS = ("assign_due_at", "first_update_due_at", "close_due_at")


def deadlines_place_estimates(*, year: int, snapshot: dict[str, list]) -> int:
    """Place deadlines estimated on Monday–Friday for `year` (before its calendar was filled
    in) on its real working days. `snapshot` is {case id: the three deadlines as ISO text}
    as they were when the year was imported: a deadline changed since (an extension, an
    escalation) was computed on the real calendar already and is left alone. One short
    transaction per case. Returns how many cases changed."""
    changed = 0
    for pk, taken in snapshot.items():
        changed += _place_estimates(int(pk), year, taken)
    return changed


def _local(moment) -> str:
    return timezone.localtime(moment).isoformat()


@transaction.atomic
def _place_estimates(pk: int, year: int, taken: list) -> bool:
    case = lock_case(Case(pk=pk))
    if case.status not in OPEN_STATUSES:
        return False
    moves = {}
    for field, then in zip(DEADLINE_FIELDS, taken, strict=True):
        due = getattr(case, field)
        if due is None or then is None or due.isoformat() != then:
            continue
        if timezone.localtime(due).year == year:
            placed = place_estimate(due)
            if placed != due:
                moves[field] = (due, placed)
    if not moves:
        return False
    # A deadline the estimate made pass already stays missed in the timeline.
    record_missed_breaches(case)
    for field, (_old, new) in moves.items():
        setattr(case, field, new)
    save_case(case, *moves)
    append_event(
        case,
        kind=CaseEvent.Kind.DEADLINES_PLACED,
        actor=None,
        from_status=case.status,
        note=_("The %(year)s holiday calendar was filled in; deadlines in %(year)s moved.")
        % {"year": year},
        data={
            field: {"from": _local(old), "to": _local(new)} for field, (old, new) in moves.items()
        },
    )
    return True

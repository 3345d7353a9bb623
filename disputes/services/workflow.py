"""The case's way through triage and mediation: accept, send back, resubmit, assign,
progress, outcome, resolve, close, reopen, withdraw, refer, attach."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.models import Department, User
from sla import clock, timers

from .. import permissions
from ..attachments import store_attachments, validate_attachments, validate_note_and_photos
from ..ledger import (
    append_event,
    end_pause,
    lock_case,
    note_progress,
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
    CloseKind,
    Outcome,
    ReferralKind,
)
from ..selectors import mediator_candidates
from ..supervision_models import VERIFY_DUE
from .verification import close_checked, may_check, start_check

S = CaseStatus


# --- triage -------------------------------------------------------------------------------


@transaction.atomic
def case_accept(*, case: Case, actor: User, note: str = "") -> Case:
    case = lock_case(case)
    require(permissions.is_manager(actor, case))
    require_status(case, [S.FILED], _("accepted"))
    case.status, case.accepted_at = S.ACCEPTED, timezone.now()
    save_case(case, "status", "accepted_at")
    append_event(case, kind=CaseEvent.Kind.ACCEPTED, actor=actor, from_status=S.FILED, note=note)
    return case


@transaction.atomic
def case_send_back(*, case: Case, actor: User, reason: str) -> Case:
    case = lock_case(case)
    require(permissions.is_manager(actor, case))
    require_status(case, [S.FILED, S.ACCEPTED], _("sent back"))
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the case is sent back.")]})
    from_status = case.status
    case.status = S.SENT_BACK
    save_case(case, "status")
    append_event(
        case, kind=CaseEvent.Kind.SENT_BACK, actor=actor, from_status=from_status, note=reason
    )
    return case


@transaction.atomic
def case_resubmit(*, case: Case, actor: User, note: str = "") -> Case:
    case = lock_case(case)
    require(case.filed_by_id == actor.pk or permissions.is_manager(actor, case))
    require_status(case, [S.SENT_BACK], _("resubmitted"))
    case.status = S.FILED
    save_case(case, "status")
    append_event(
        case, kind=CaseEvent.Kind.RESUBMITTED, actor=actor, from_status=S.SENT_BACK, note=note
    )
    return case


@transaction.atomic
def case_assign(
    *, case: Case, mediator: User, actor: User, assistants: Iterable[User] = (), note: str = ""
) -> Case:
    case = lock_case(case)
    require(permissions.is_manager(actor, case))
    require_status(case, [S.FILED, S.ACCEPTED], _("assigned"))

    candidates = mediator_candidates(case=case)
    assistants = [u for u in assistants if u.pk != mediator.pk]
    wanted = {mediator.pk, *(u.pk for u in assistants)}
    allowed = set(candidates.filter(pk__in=wanted).values_list("pk", flat=True))
    if mediator.pk not in allowed:
        raise ValidationError({"mediator": [_("This person cannot mediate cases here.")]})
    if any(u.pk not in allowed for u in assistants):
        raise ValidationError({"assistants": [_("Some assisting staff are not in scope.")]})
    now = timezone.now()
    from_status = case.status
    case.status, case.mediator, case.assigned_at = S.ASSIGNED, mediator, now
    case.accepted_at = case.accepted_at or now
    case.first_update_due_at = clock.first_update_deadline(case.sla_policy, now)
    case.assigned_on_time = now <= case.assign_due_at
    save_case(
        case,
        "status",
        "mediator",
        "assigned_at",
        "accepted_at",
        "first_update_due_at",
        "assigned_on_time",
    )
    case.assistants.set(assistants)
    append_event(
        case,
        kind=CaseEvent.Kind.ASSIGNED,
        actor=actor,
        from_status=from_status,
        note=note,
        data={
            "mediator": mediator.display_name,
            "assistants": [u.display_name for u in assistants],
        },
    )
    return case


# --- mediation ------------------------------------------------------------------------------


@transaction.atomic
def case_progress(
    *, case: Case, actor: User, note: str, photos: Iterable = (), client_key: str = ""
) -> Case:
    """A progress update; the first one is the case's "first handling" time point.

    `client_key` is made by the page or the app with the note: the same note sent again
    (the phone's offline queue after a lost reply) is recorded once. Checked under the
    case's lock, so two copies arriving together cannot both pass."""
    case = lock_case(case)
    require(permissions.is_handler(actor, case) or permissions.is_manager(actor, case))
    if (
        client_key
        and case.events.filter(
            kind=CaseEvent.Kind.PROGRESS, actor=actor, data__client_key=client_key
        ).exists()
    ):
        return case
    require_status(case, [S.ASSIGNED, S.IN_MEDIATION], _("updated"))
    photos = list(photos)
    validate_note_and_photos(note, photos, _("Write what was done."))
    from_status = case.status
    fields = ["status"]
    case.status = S.IN_MEDIATION
    first = case.first_progress_at is None
    if first:
        case.first_progress_at = timezone.now()
        case.first_update_on_time = (
            case.first_update_due_at is None or case.first_progress_at <= case.first_update_due_at
        )
        fields += ["first_progress_at", "first_update_on_time"]
    note_progress(case)
    save_case(case, *fields)
    event = append_event(
        case,
        kind=CaseEvent.Kind.PROGRESS,
        actor=actor,
        from_status=from_status,
        note=note.strip(),
        data={"first": first, **({"client_key": client_key} if client_key else {})},
    )
    store_attachments(case, photos, actor=actor, event=event)
    return case


@transaction.atomic
def case_record_outcome(*, case: Case, actor: User, outcome: str, note: str = "") -> Case:
    case = lock_case(case)
    require(case.mediator_id == actor.pk or permissions.is_manager(actor, case))
    require_status(case, [S.IN_MEDIATION], _("given an outcome"))
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": [_("Choose an outcome.")]})
    case.outcome, case.outcome_note, case.outcome_at = outcome, note.strip(), timezone.now()
    save_case(case, "outcome", "outcome_note", "outcome_at")
    append_event(
        case,
        kind=CaseEvent.Kind.OUTCOME,
        actor=actor,
        from_status=S.IN_MEDIATION,
        note=note.strip(),
        data={"outcome": outcome},
    )
    return case


@transaction.atomic
def case_resolve(*, case: Case, actor: User, note: str = "", outcome: str | None = None) -> Case:
    """Mark a mediated case resolved. An outcome may be given here in one step; a failed
    mediation cannot be "resolved": refer or escalate it instead."""
    case = lock_case(case)
    require(case.mediator_id == actor.pk or permissions.is_manager(actor, case))
    require_status(case, [S.IN_MEDIATION], _("resolved"))
    if outcome:
        if outcome not in Outcome.values:
            raise ValidationError({"outcome": [_("Choose an outcome.")]})
        case.outcome, case.outcome_at = outcome, timezone.now()
        case.outcome_note = note.strip() or case.outcome_note
    if case.outcome not in (Outcome.AGREEMENT, Outcome.PARTIAL):
        raise ValidationError(
            {"outcome": [_("Record an agreement or a partial agreement before resolving.")]}
        )
    end_pause(case, actor)
    case.status, case.resolved_at, case.resolved_by = S.RESOLVED, timezone.now(), actor
    checked = start_check(case, case.resolved_at)
    save_case(
        case,
        "status",
        "resolved_at",
        "resolved_by",
        "verify_due_at",
        "outcome",
        "outcome_at",
        "outcome_note",
    )
    data = {"outcome": case.outcome}
    if checked:
        data["check_due_at"] = case.verify_due_at.isoformat()
    append_event(
        case,
        kind=CaseEvent.Kind.RESOLVED,
        actor=actor,
        from_status=S.IN_MEDIATION,
        note=note.strip(),
        data=data,
    )
    return case


@transaction.atomic
def case_close(*, case: Case, actor: User, note: str = "") -> Case:
    """Close a case. Requires an outcome; only a resolved case counts as substantive. A
    resolution waiting for its check (核查) is closed only by a person who may check it, and
    closing it is the check passed."""
    case = lock_case(case)
    if case.status == S.RESOLVED and case.verify_due_at is not None:
        require(may_check(actor, case))
        timers.disarm(VERIFY_DUE, case.pk)
        return close_checked(case, actor, note)
    require(case.mediator_id == actor.pk or permissions.is_manager(actor, case))
    require_status(case, [S.RESOLVED, S.IN_MEDIATION, S.REFERRED], _("closed"))
    if not case.outcome and case.status != S.REFERRED:
        raise ValidationError({"outcome": [_("Record the mediation outcome before closing.")]})
    from_status = case.status
    if from_status == S.RESOLVED:
        case.close_kind = CloseKind.SUBSTANTIVE
    else:
        case.close_kind = CloseKind.PROCEDURAL
        case.outcome = case.outcome or Outcome.FAILED
    end_pause(case, actor)
    case.status, case.closed_at = S.CLOSED, timezone.now()
    case.closed_on_time = case.closed_at <= case.close_due_at
    save_case(case, "status", "closed_at", "close_kind", "outcome", "closed_on_time")
    append_event(
        case,
        kind=CaseEvent.Kind.CLOSED,
        actor=actor,
        from_status=from_status,
        note=note,
        data={"close_kind": case.close_kind},
    )
    return case


@transaction.atomic
def case_reopen(*, case: Case, actor: User, reason: str) -> Case:
    case = lock_case(case)
    require(permissions.is_manager(actor, case))
    require_status(case, [S.RESOLVED, S.CLOSED], _("reopened"))
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the case is reopened.")]})
    record_missed_breaches(case)  # a late close stays recorded as late
    from_status = case.status
    now = timezone.now()
    case.status = S.IN_MEDIATION if case.mediator_id else S.ACCEPTED
    case.reopened_at = now
    case.close_kind = ""
    case.closed_at = case.resolved_at = case.resolved_by = case.verify_due_at = None
    timers.disarm(VERIFY_DUE, case.pk)
    # Reopened work gets a full closing period from now, never less than it had: a case
    # closed on time is not red the moment it is reopened.
    previous_due = case.close_due_at
    fresh_due = clock.filing_deadlines(case.sla_policy, now)["close_due_at"]
    if fresh_due > case.close_due_at:
        case.close_due_at = fresh_due
        clock.check_of(case).breached_close = False  # the new deadline can be missed again
    save_case(
        case,
        "status",
        "reopened_at",
        "close_kind",
        "closed_at",
        "resolved_at",
        "resolved_by",
        "verify_due_at",
        "close_due_at",
    )
    append_event(
        case,
        kind=CaseEvent.Kind.REOPENED,
        actor=actor,
        from_status=from_status,
        note=reason,
        data={
            "close_due_at": case.close_due_at.isoformat(),
            "previous_close_due_at": previous_due.isoformat(),
        },
    )
    return case


@transaction.atomic
def case_withdraw(*, case: Case, actor: User, reason: str) -> Case:
    case = lock_case(case)
    require(
        permissions.is_manager(actor, case)
        or (case.filed_by_id == actor.pk and case.status in (S.FILED, S.SENT_BACK))
    )
    require_status(case, OPEN_STATUSES, _("withdrawn"))
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the case is withdrawn.")]})
    from_status = case.status
    end_pause(case, actor)
    case.status, case.withdrawn_at = S.WITHDRAWN, timezone.now()
    save_case(case, "status", "withdrawn_at")
    append_event(
        case, kind=CaseEvent.Kind.WITHDRAWN, actor=actor, from_status=from_status, note=reason
    )
    return case


@transaction.atomic
def case_refer(
    *, case: Case, actor: User, kind: str, note: str, department: Department | None = None
) -> Case:
    """Refer out of people's mediation: to litigation, arbitration or a department."""
    case = lock_case(case)
    require(case.mediator_id == actor.pk or permissions.is_manager(actor, case))
    require_status(case, OPEN_STATUSES, _("referred"))
    errors = {}
    if kind not in ReferralKind.values:
        errors["kind"] = [_("Choose where the case is referred to.")]
    if kind == ReferralKind.DEPARTMENT and department is None:
        errors["department"] = [_("Choose the department.")]
    if not (note or "").strip():
        errors["note"] = [_("Say why and how the case is referred.")]
    if errors:
        raise ValidationError(errors)
    from_status = case.status
    end_pause(case, actor)
    case.status, case.referred_at = S.REFERRED, timezone.now()
    case.referral_kind = kind
    case.referral_department = department if kind == ReferralKind.DEPARTMENT else None
    save_case(case, "status", "referred_at", "referral_kind", "referral_department")
    append_event(
        case,
        kind=CaseEvent.Kind.REFERRED,
        actor=actor,
        from_status=from_status,
        note=note,
        data={"kind": kind, "department": department.name if department else ""},
    )
    return case


@transaction.atomic
def case_attach(*, case: Case, actor: User, files: Iterable, note: str = "") -> Case:
    case = Case.objects.select_related("handling_area").get(pk=case.pk)
    require(
        case.filed_by_id == actor.pk
        or permissions.is_handler(actor, case)
        or permissions.is_manager(actor, case)
    )
    files = list(files)
    if not files:
        raise ValidationError({"files": [_("Choose at least one file.")]})
    validate_attachments(files, field="files")
    event = append_event(
        case,
        kind=CaseEvent.Kind.ATTACHMENT,
        actor=actor,
        from_status=case.status,
        note=note,
        data={"count": len(files)},
    )
    store_attachments(case, files, actor=actor, event=event, field="files")
    return case


# The timeline kinds other apps may add without changing the case: a note published to
# the resident, the resident's rating, a refused reopen request, a callback's result.
RECORD_KINDS = (
    CaseEvent.Kind.PUBLISHED,
    CaseEvent.Kind.RATED,
    CaseEvent.Kind.REOPEN_REFUSED,
    CaseEvent.Kind.CALLBACK,
    CaseEvent.Kind.MEDIATION,
    # Linkage referrals and the archived file (the referrals and casefiles apps).
    CaseEvent.Kind.LINKAGE_IN,
    CaseEvent.Kind.LINKAGE_OUT,
    CaseEvent.Kind.LINKAGE_RESULT,
    CaseEvent.Kind.LINKAGE_EXTENDED,
    CaseEvent.Kind.LINKAGE_DUE_SOON,
    CaseEvent.Kind.LINKAGE_OVERDUE,
    CaseEvent.Kind.ARCHIVED,
)


def case_record(*, case: Case, kind: str, actor: User | None, note: str = "", data=None, at=None):
    """Put something that happened around the case on its timeline, without changing the
    case (other apps never write CaseEvent rows themselves). `actor` None: the resident or
    the system. `at`: when it happened, if not now (a missed deadline is stamped at the
    deadline, even when the sweep records it days later). Call inside the caller's
    transaction."""
    if kind not in RECORD_KINDS:
        raise ValueError(f"{kind} changes the case; use its own service")
    return append_event(
        case, kind=kind, actor=actor, from_status=case.status, note=note, data=data or {}, at=at
    )

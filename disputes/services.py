"""Every state change of a case. Each function locks the case row, checks who may act and
whether the transition is legal, writes the change and its CaseEvent in one transaction,
and returns the case. Errors:

- PermissionDenied: the actor may not do this (403/404 at the edges);
- ValidationError: bad input, with field messages (400), nothing saved;
- TransitionError: the case is not in a state that allows this (409), nothing saved.
"""

import secrets
from collections.abc import Iterable

import filetype
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.models import Area, Department, User
from sla import clock
from sla.models import SlaCheck

from . import permissions
from .models import (
    OPEN_STATUSES,
    Attachment,
    Case,
    CaseEvent,
    CaseNumberSequence,
    CaseStatus,
    Category,
    CloseKind,
    Outcome,
    Party,
    PartyKind,
    PartySide,
    ReferralKind,
    RiskLevel,
)
from .routing import ancestor_ids, route

S = CaseStatus
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ALLOWED_TYPES = {
    "image/jpeg": (".jpg", Attachment.Kind.PHOTO),
    "image/png": (".png", Attachment.Kind.PHOTO),
    "image/webp": (".webp", Attachment.Kind.PHOTO),
    "image/gif": (".gif", Attachment.Kind.PHOTO),
    "image/heic": (".heic", Attachment.Kind.PHOTO),
    "application/pdf": (".pdf", Attachment.Kind.PDF),
}


class TransitionError(Exception):
    """The action is not allowed in the case's current state."""

    def __init__(self, case: Case, action: str):
        self.case = case
        self.message = _("This case is “%(status)s”; it cannot be %(action)s now.") % {
            "status": case.get_status_display(),
            "action": action,
        }
        super().__init__(self.message)


def _lock(case: Case) -> Case:
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


def _require(allowed: bool):
    if not allowed:
        raise PermissionDenied(_("You may not do this for this case."))


def _require_status(case: Case, allowed: Iterable[str], action: str):
    if case.status not in set(allowed):
        raise TransitionError(case, action)


def _event(case, *, kind, actor, from_status="", note="", data=None, at=None) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        actor=actor,
        at=at or timezone.now(),
        from_status=from_status,
        to_status=case.status,
        note=note,
        data=data or {},
    )


def _save(case: Case, *fields: str):
    """Save the changed fields and re-arm the SLA sweep: any state change can add, move or
    remove a deadline, so the next check time is recomputed here, under the row lock."""
    case.save(update_fields=[*fields, "updated_at"])
    clock.rearm(case)


def _record_missed(case: Case):
    """Before a change that moves or clears a deadline (escalation, extension, reopening),
    record any breach the sweep has not come by to record yet: the change would otherwise
    erase the evidence that the deadline was missed."""
    from .sweep import record_missed

    record_missed(case, timezone.now())


def _next_number(year: int) -> str:
    # The row lock taken by the UPDATE serialises concurrent filings until commit.
    CaseNumberSequence.objects.bulk_create(
        [CaseNumberSequence(year=year, last=0)], ignore_conflicts=True
    )
    CaseNumberSequence.objects.filter(year=year).update(last=F("last") + 1)
    last = CaseNumberSequence.objects.get(year=year).last
    return f"JF{year}-{last:06d}"


# --- attachments ------------------------------------------------------------------------


def _size(upload) -> int:
    """Django uploads know their size; plain file objects (API clients, scripts) are measured."""
    size = getattr(upload, "size", None)
    if size is None:
        position = upload.tell()
        upload.seek(0, 2)
        size = upload.tell()
        upload.seek(position)
    return size


def attachment_check(upload) -> tuple[str, str]:
    """(content type, kind) judged from the bytes, not the name; ValidationError if not
    a photo or a PDF, or larger than 10 MB."""
    name = getattr(upload, "name", "") or _("file")
    if _size(upload) > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            _("“%(name)s” is larger than 10 MB.") % {"name": name}, code="too_large"
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    guess = filetype.guess(head)
    if guess is None or guess.mime not in ALLOWED_TYPES:
        raise ValidationError(
            _("“%(name)s” is not a photo or a PDF.") % {"name": name}, code="bad_type"
        )
    return guess.mime, ALLOWED_TYPES[guess.mime][1]


def _attachments_validate(files, field: str = "photos"):
    errors = []
    for upload in files:
        try:
            attachment_check(upload)
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError({field: errors})


def _attachments_store(case: Case, files, *, actor, event: CaseEvent | None) -> list[Attachment]:
    stored = []
    for upload in files:
        mime, kind = attachment_check(upload)
        token = secrets.token_hex(16)
        attachment = Attachment(
            case=case,
            event=event,
            token=token,
            extension=ALLOWED_TYPES[mime][0],
            kind=kind,
            content_type=mime,
            size=_size(upload),
            original_name=(getattr(upload, "name", "") or "upload")[:200],
            uploaded_by=actor,
        )
        attachment.file.save(f"{token}{attachment.extension}", upload, save=False)
        attachment.save()
        stored.append(attachment)
    return stored


# --- filing -------------------------------------------------------------------------------


def _validate_parties(parties: list[dict]) -> list[dict]:
    errors = {}
    cleaned = []
    for index, party in enumerate(parties):
        row_errors = []
        name = (party.get("name") or "").strip()
        if not name:
            row_errors.append(_("Party %(n)d: the name is required.") % {"n": index + 1})
        side = party.get("side") or PartySide.APPLICANT
        if side not in PartySide.values:
            row_errors.append(_("Party %(n)d: unknown side.") % {"n": index + 1})
        kind = party.get("kind") or PartyKind.PERSON
        if kind not in PartyKind.values:
            row_errors.append(_("Party %(n)d: unknown kind.") % {"n": index + 1})
        phone = (party.get("phone") or "").strip()
        if phone and not phone.replace("-", "").replace(" ", "").replace("+", "").isdigit():
            row_errors.append(_("Party %(n)d: the phone number is not valid.") % {"n": index + 1})
        id_number = (party.get("id_number") or "").strip().upper()
        if id_number and not _id_number_ok(id_number):
            row_errors.append(_("Party %(n)d: the ID number is not valid.") % {"n": index + 1})
        if row_errors:
            errors[index] = row_errors
        cleaned.append(
            {
                "side": side,
                "kind": kind,
                "name": name[:100],
                "phone": phone[:32],
                "id_number": id_number[:32],
                "address": (party.get("address") or "").strip()[:200],
                "relationship": (party.get("relationship") or "").strip()[:100],
            }
        )
    messages = [m for rows in errors.values() for m in rows]
    if not any(p["side"] == PartySide.APPLICANT and p["name"] for p in cleaned):
        messages.append(_("Add at least one applicant."))
    if messages:
        raise ValidationError({"parties": messages})
    return cleaned


def _id_number_ok(value: str) -> bool:
    """Mainland resident ID: 18 characters with the ISO 7064 check digit (or 15 digits for
    old cards). Organisations give a unified social credit code (18 characters) instead."""
    if len(value) == 15:
        return value.isdigit()
    if len(value) != 18:
        return False
    if value[:17].isdigit():
        weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        total = sum(int(d) * w for d, w in zip(value[:17], weights, strict=True))
        return "10X98765432"[total % 11] == value[17]
    return value.isalnum()  # unified social credit code


@transaction.atomic
def case_file(
    *,
    actor: User | None,
    area: Area,
    category: Category,
    cause: str,
    address: str,
    channel: str,
    parties: list[dict],
    description: str = "",
    occurred_at=None,
    risk_level: str | None = None,
    people_involved: int = 2,
    amount_involved=None,
    photos: Iterable = (),
    resolved_on_spot: bool = False,
    outcome_note: str = "",
    public: bool = False,
) -> Case:
    """File a dispute. A grid worker may record it as resolved on the spot ("small matters
    stay in the grid"), which keeps it in the grid's ledger as resolved.

    `public=True` is a resident's own report (residents app, QR code): nobody is signed in,
    so `actor` is None, the staff permission checks do not apply and the case has no filer;
    the caller owns the abuse checks (rate limits, honeypot)."""
    if public:
        if actor is not None or resolved_on_spot:
            raise ValueError("a public report has no actor and is never resolved on the spot")
    else:
        _require(permissions.can_file(actor, channel=channel))
        _require(permissions.filing_areas_q(actor).filter(pk=area.pk).exists())
    errors = {}
    if not (cause or "").strip():
        errors["cause"] = [_("Describe the cause in a few words.")]
    if not (address or "").strip():
        errors["address"] = [_("The address is required.")]
    if category.parent_id is None:
        errors["category"] = [_("Choose a specific dispute type.")]
    if risk_level and risk_level not in RiskLevel.values:
        errors["risk_level"] = [_("Unknown risk level.")]
    if resolved_on_spot and not (outcome_note or "").strip():
        errors["outcome_note"] = [_("Say how it was resolved on the spot.")]
    try:
        cleaned_parties = _validate_parties(parties)
    except ValidationError as exc:
        errors |= exc.message_dict
    photos = list(photos)
    try:
        _attachments_validate(photos)
    except ValidationError as exc:
        errors |= exc.message_dict
    if errors:
        raise ValidationError(errors)

    risk = risk_level or category.default_risk
    routed = route(category=category, risk_level=risk, area=area, on_spot=resolved_on_spot)
    now = timezone.now()
    policy = clock.policy_for(category, risk)
    case = Case(
        number=_next_number(timezone.localtime(now).year),
        cause=cause.strip(),
        description=description.strip(),
        occurred_at=occurred_at,
        address=address.strip(),
        area=area,
        category=category,
        risk_level=risk,
        channel=channel,
        people_involved=people_involved,
        amount_involved=amount_involved,
        handling_level=routed.handling_level,
        handling_area=routed.handling_area,
        lead_department=routed.lead_department,
        filed_by=actor,
        status=S.FILED,
        filed_at=now,
        sla_policy=policy,
        **clock.filing_deadlines(policy, now),
        **ancestor_ids(routed.ancestors),
    )
    # The copied ancestor columns are derived, not input: a grid straight under a street
    # has no community, and validating them as required fields would refuse its cases.
    # A public report has no filer by design (filed_by is blank=False for staff filings).
    # No matching policy is allowed too: clock.py then applies the built-in "13710" limits.
    derived = ["number", "district", "street", "community", "grid", "sla_policy"]
    case.full_clean(exclude=[*derived, "filed_by"] if public else derived)
    case.save()
    clock.rearm(case)
    Party.objects.bulk_create([Party(case=case, **p) for p in cleaned_parties])
    filed = _event(
        case,
        kind=CaseEvent.Kind.FILED,
        actor=actor,
        at=now,
        data={
            "handling_level": case.handling_level,
            "handling_area": case.handling_area.name,
            "lead_department": case.lead_department.name if case.lead_department else "",
            **({"public": True} if public else {}),
        },
    )
    _attachments_store(case, photos, actor=actor, event=filed)
    if resolved_on_spot:
        case.status = S.RESOLVED
        case.resolved_on_spot = True
        case.mediator = actor
        case.outcome = Outcome.AGREEMENT
        case.outcome_note = outcome_note.strip()
        case.accepted_at = case.assigned_at = case.first_progress_at = now
        case.outcome_at = case.resolved_at = now
        case.assigned_on_time = case.first_update_on_time = True
        _save(
            case, "status", "resolved_on_spot", "mediator", "outcome", "outcome_note",
            "accepted_at", "assigned_at", "first_progress_at", "outcome_at", "resolved_at",
            "assigned_on_time", "first_update_on_time",
        )  # fmt: skip
        _event(
            case, kind=CaseEvent.Kind.RESOLVED_ON_SPOT, actor=actor, from_status=S.FILED,
            note=case.outcome_note, at=now,
        )  # fmt: skip
    return case


# --- triage -------------------------------------------------------------------------------


@transaction.atomic
def case_accept(*, case: Case, actor: User, note: str = "") -> Case:
    case = _lock(case)
    _require(permissions.is_manager(actor, case))
    _require_status(case, [S.FILED], _("accepted"))
    case.status, case.accepted_at = S.ACCEPTED, timezone.now()
    _save(case, "status", "accepted_at")
    _event(case, kind=CaseEvent.Kind.ACCEPTED, actor=actor, from_status=S.FILED, note=note)
    return case


@transaction.atomic
def case_send_back(*, case: Case, actor: User, reason: str) -> Case:
    case = _lock(case)
    _require(permissions.is_manager(actor, case))
    _require_status(case, [S.FILED, S.ACCEPTED], _("sent back"))
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the case is sent back.")]})
    from_status = case.status
    case.status = S.SENT_BACK
    _save(case, "status")
    _event(case, kind=CaseEvent.Kind.SENT_BACK, actor=actor, from_status=from_status, note=reason)
    return case


@transaction.atomic
def case_resubmit(*, case: Case, actor: User, note: str = "") -> Case:
    case = _lock(case)
    _require(case.filed_by_id == actor.pk or permissions.is_manager(actor, case))
    _require_status(case, [S.SENT_BACK], _("resubmitted"))
    case.status = S.FILED
    _save(case, "status")
    _event(case, kind=CaseEvent.Kind.RESUBMITTED, actor=actor, from_status=S.SENT_BACK, note=note)
    return case


@transaction.atomic
def case_assign(
    *, case: Case, mediator: User, actor: User, assistants: Iterable[User] = (), note: str = ""
) -> Case:
    case = _lock(case)
    _require(permissions.is_manager(actor, case))
    _require_status(case, [S.FILED, S.ACCEPTED], _("assigned"))
    from .selectors import mediator_candidates

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
    _save(case, "status", "mediator", "assigned_at", "accepted_at", "first_update_due_at",
          "assigned_on_time")  # fmt: skip
    case.assistants.set(assistants)
    _event(
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
def case_progress(*, case: Case, actor: User, note: str, photos: Iterable = ()) -> Case:
    """A progress update; the first one is the case's "first handling" time point."""
    case = _lock(case)
    _require(permissions.is_handler(actor, case) or permissions.is_manager(actor, case))
    _require_status(case, [S.ASSIGNED, S.IN_MEDIATION], _("updated"))
    photos = list(photos)
    errors = {}
    if not (note or "").strip():
        errors["note"] = [_("Write what was done.")]
    try:
        _attachments_validate(photos)
    except ValidationError as exc:
        errors |= exc.message_dict
    if errors:
        raise ValidationError(errors)
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
    _save(case, *fields)
    event = _event(
        case, kind=CaseEvent.Kind.PROGRESS, actor=actor, from_status=from_status,
        note=note.strip(), data={"first": first},
    )  # fmt: skip
    _attachments_store(case, photos, actor=actor, event=event)
    return case


@transaction.atomic
def case_record_outcome(*, case: Case, actor: User, outcome: str, note: str = "") -> Case:
    case = _lock(case)
    _require(case.mediator_id == actor.pk or permissions.is_manager(actor, case))
    _require_status(case, [S.IN_MEDIATION], _("given an outcome"))
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": [_("Choose an outcome.")]})
    case.outcome, case.outcome_note, case.outcome_at = outcome, note.strip(), timezone.now()
    _save(case, "outcome", "outcome_note", "outcome_at")
    _event(
        case, kind=CaseEvent.Kind.OUTCOME, actor=actor, from_status=S.IN_MEDIATION,
        note=note.strip(), data={"outcome": outcome},
    )  # fmt: skip
    return case


@transaction.atomic
def case_resolve(*, case: Case, actor: User, note: str = "", outcome: str | None = None) -> Case:
    """Mark a mediated case resolved. An outcome may be given here in one step; a failed
    mediation cannot be "resolved": refer or escalate it instead."""
    case = _lock(case)
    _require(case.mediator_id == actor.pk or permissions.is_manager(actor, case))
    _require_status(case, [S.IN_MEDIATION], _("resolved"))
    if outcome:
        if outcome not in Outcome.values:
            raise ValidationError({"outcome": [_("Choose an outcome.")]})
        case.outcome, case.outcome_at = outcome, timezone.now()
        case.outcome_note = note.strip() or case.outcome_note
    if case.outcome not in (Outcome.AGREEMENT, Outcome.PARTIAL):
        raise ValidationError(
            {"outcome": [_("Record an agreement or a partial agreement before resolving.")]}
        )
    case.status, case.resolved_at = S.RESOLVED, timezone.now()
    _save(case, "status", "resolved_at", "outcome", "outcome_at", "outcome_note")
    _event(
        case, kind=CaseEvent.Kind.RESOLVED, actor=actor, from_status=S.IN_MEDIATION,
        note=note.strip(), data={"outcome": case.outcome},
    )  # fmt: skip
    return case


@transaction.atomic
def case_close(*, case: Case, actor: User, note: str = "") -> Case:
    """Close a case. Requires an outcome; only a resolved case counts as substantive."""
    case = _lock(case)
    _require(case.mediator_id == actor.pk or permissions.is_manager(actor, case))
    _require_status(case, [S.RESOLVED, S.IN_MEDIATION, S.REFERRED], _("closed"))
    if not case.outcome and case.status != S.REFERRED:
        raise ValidationError({"outcome": [_("Record the mediation outcome before closing.")]})
    from_status = case.status
    if from_status == S.RESOLVED:
        case.close_kind = CloseKind.SUBSTANTIVE
    else:
        case.close_kind = CloseKind.PROCEDURAL
        case.outcome = case.outcome or Outcome.FAILED
    case.status, case.closed_at = S.CLOSED, timezone.now()
    case.closed_on_time = case.closed_at <= case.close_due_at
    _save(case, "status", "closed_at", "close_kind", "outcome", "closed_on_time")
    _event(
        case, kind=CaseEvent.Kind.CLOSED, actor=actor, from_status=from_status, note=note,
        data={"close_kind": case.close_kind},
    )  # fmt: skip
    return case


@transaction.atomic
def case_reopen(*, case: Case, actor: User, reason: str) -> Case:
    case = _lock(case)
    _require(permissions.is_manager(actor, case))
    _require_status(case, [S.RESOLVED, S.CLOSED], _("reopened"))
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the case is reopened.")]})
    _record_missed(case)  # a late close stays recorded as late
    from_status = case.status
    now = timezone.now()
    case.status = S.IN_MEDIATION if case.mediator_id else S.ACCEPTED
    case.reopened_at = now
    case.close_kind = ""
    case.closed_at = case.resolved_at = None
    # Reopened work gets a full closing period from now, never less than it had: a case
    # closed on time is not red the moment it is reopened.
    previous_due = case.close_due_at
    fresh_due = clock.filing_deadlines(case.sla_policy, now)["close_due_at"]
    if fresh_due > case.close_due_at:
        case.close_due_at = fresh_due
        clock.check_of(case).breached_close = False  # the new deadline can be missed again
    _save(case, "status", "reopened_at", "close_kind", "closed_at", "resolved_at",
          "close_due_at")  # fmt: skip
    _event(case, kind=CaseEvent.Kind.REOPENED, actor=actor, from_status=from_status, note=reason,
           data={"close_due_at": case.close_due_at.isoformat(),
                 "previous_close_due_at": previous_due.isoformat()})  # fmt: skip
    return case


@transaction.atomic
def case_withdraw(*, case: Case, actor: User, reason: str) -> Case:
    case = _lock(case)
    _require(
        permissions.is_manager(actor, case)
        or (case.filed_by_id == actor.pk and case.status in (S.FILED, S.SENT_BACK))
    )
    _require_status(case, OPEN_STATUSES, _("withdrawn"))
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the case is withdrawn.")]})
    from_status = case.status
    case.status, case.withdrawn_at = S.WITHDRAWN, timezone.now()
    _save(case, "status", "withdrawn_at")
    _event(case, kind=CaseEvent.Kind.WITHDRAWN, actor=actor, from_status=from_status, note=reason)
    return case


@transaction.atomic
def case_refer(
    *, case: Case, actor: User, kind: str, note: str, department: Department | None = None
) -> Case:
    """Refer out of people's mediation: to litigation, arbitration or a department."""
    case = _lock(case)
    _require(case.mediator_id == actor.pk or permissions.is_manager(actor, case))
    _require_status(case, OPEN_STATUSES, _("referred"))
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
    case.status, case.referred_at = S.REFERRED, timezone.now()
    case.referral_kind = kind
    case.referral_department = department if kind == ReferralKind.DEPARTMENT else None
    _save(case, "status", "referred_at", "referral_kind", "referral_department")
    _event(
        case, kind=CaseEvent.Kind.REFERRED, actor=actor, from_status=from_status, note=note,
        data={"kind": kind, "department": department.name if department else ""},
    )  # fmt: skip
    return case


@transaction.atomic
def case_attach(*, case: Case, actor: User, files: Iterable, note: str = "") -> Case:
    case = Case.objects.select_related("handling_area").get(pk=case.pk)
    _require(
        case.filed_by_id == actor.pk
        or permissions.is_handler(actor, case)
        or permissions.is_manager(actor, case)
    )
    files = list(files)
    if not files:
        raise ValidationError({"files": [_("Choose at least one file.")]})
    _attachments_validate(files, field="files")
    event = _event(case, kind=CaseEvent.Kind.ATTACHMENT, actor=actor, from_status=case.status,
                   note=note, data={"count": len(files)})  # fmt: skip
    _attachments_store(case, files, actor=actor, event=event)
    return case


# --- escalation, risk, dispatch ---------------------------------------------------------------

ESCALATABLE = (S.FILED, S.ACCEPTED, S.ASSIGNED, S.IN_MEDIATION)
HANDLING_ORDER = ["grid", "community", "street", "district"]
RISK_ORDER = [RiskLevel.ORDINARY, RiskLevel.MAJOR, RiskLevel.SERIOUS]


def _parent_queue(case: Case, at_least: str | None = None):
    """(handling level, area) of the next queue up, or of `at_least` if that is higher."""
    from .routing import AREA_TO_HANDLING, QUEUE_AREA_LEVELS
    from .selectors import ancestors_by_level

    ancestors = ancestors_by_level(case.area)
    current = HANDLING_ORDER.index(case.handling_level)
    wanted = current + 1
    if at_least is not None:
        wanted = max(wanted, HANDLING_ORDER.index(at_least))
    for level in HANDLING_ORDER[wanted:]:
        for area_level in QUEUE_AREA_LEVELS[level]:
            area = ancestors.get(area_level)
            if area is not None and area.pk != case.handling_area_id:
                return AREA_TO_HANDLING[area.level], area
    return None, None


def _escalate_locked(case: Case, *, actor, reason: str, at_least: str | None = None) -> Case:
    """Move a (locked) case to the parent level's queue: a new assignment deadline there,
    the original close deadline kept, the previous mediator kept as assisting staff."""
    level, area = _parent_queue(case, at_least)
    if area is None:
        raise TransitionError(case, _("escalated (it is already at the top level)"))
    _record_missed(case)
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
    _save(
        case, "handling_level", "handling_area", "status", "mediator", "assigned_at",
        "first_update_due_at", "first_progress_at", "assign_due_at",
    )  # fmt: skip
    if previous_mediator is not None:
        case.assistants.add(previous_mediator)
    _event(
        case, kind=CaseEvent.Kind.ESCALATED, actor=actor, from_status=from_status, note=reason,
        data={"from": from_area.name, "to": area.name, "level": level},
    )  # fmt: skip
    from notifications.services import ASSIGNER_ROLES, holders, notify

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
    case = _lock(case)
    _require(permissions.is_manager(actor, case) or case.mediator_id == actor.pk)
    _require_status(case, ESCALATABLE, _("escalated"))
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the case is escalated.")]})
    return _escalate_locked(case, actor=actor, reason=reason.strip())


@transaction.atomic
def case_raise_risk(*, case: Case, actor: User, risk_level: str, reason: str) -> Case:
    """Raising the risk moves the case up: major → street centre, serious → district."""
    case = _lock(case)
    _require(permissions.is_manager(actor, case) or case.mediator_id == actor.pk)
    _require_status(case, ESCALATABLE, _("given a higher risk level"))
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
    _save(case, "risk_level")
    _event(
        case, kind=CaseEvent.Kind.RISK_RAISED, actor=actor, from_status=case.status,
        note=reason.strip(), data={"from": old, "to": risk_level},
    )  # fmt: skip
    from .routing import LEVEL_FOR_RISK

    target = LEVEL_FOR_RISK.get(risk_level)
    if target and HANDLING_ORDER.index(case.handling_level) < HANDLING_ORDER.index(target):
        _escalate_locked(case, actor=actor, reason=reason.strip(), at_least=target)
    return case


@transaction.atomic
def case_dispatch(*, case: Case, actor: User, department: Department, note: str) -> Case:
    """发令 / 分拨: hand the case to a district department, which leads from now on."""
    case = _lock(case)
    _require(permissions.is_manager(actor, case))
    _require_status(case, ESCALATABLE, _("dispatched"))
    if not (note or "").strip():
        raise ValidationError({"note": [_("Say what the department should do.")]})
    old = case.lead_department
    case.lead_department = department
    _save(case, "lead_department")
    _event(
        case, kind=CaseEvent.Kind.DISPATCHED, actor=actor, from_status=case.status, note=note,
        data={"department": department.name, "from": old.name if old else ""},
    )  # fmt: skip
    from notifications.services import notify

    liaisons = User.objects.filter(
        assignments__department=department, assignments__ended_at__isnull=True
    ).distinct()
    notify(users=liaisons, case=case, kind="dispatched",
           title=_("Case %(number)s dispatched to %(dept)s") % {
               "number": case.number, "dept": department.name},
           body=note)  # fmt: skip
    return case


# --- extensions and the judicial-confirmation pause -------------------------------------------


@transaction.atomic
def extension_request(*, case: Case, actor: User, days: int, reason: str):
    from .models import ExtensionRequest

    case = _lock(case)
    _require(case.mediator_id == actor.pk or permissions.is_manager(actor, case))
    _require_status(case, OPEN_STATUSES, _("extended"))
    errors = {}
    if not isinstance(days, int) or not 1 <= days <= 60:
        errors["days"] = [_("Ask for 1 to 60 days.")]
    if not (reason or "").strip():
        errors["reason"] = [_("Say why more time is needed.")]
    if errors:
        raise ValidationError(errors)
    if case.extensions.filter(status=ExtensionRequest.Status.PENDING).exists():
        raise TransitionError(case, _("given another extension request while one is pending"))
    request = ExtensionRequest.objects.create(
        case=case, days=days, reason=reason.strip(), requested_by=actor
    )
    _event(case, kind=CaseEvent.Kind.EXTENSION_REQUESTED, actor=actor, from_status=case.status,
           note=reason.strip(), data={"days": days, "request": request.pk})  # fmt: skip
    from notifications.services import ASSIGNER_ROLES, holders, notify

    # The level above decides, so it is told: the staff of the next queue up.
    _level, above = _parent_queue(case)
    notify(
        users=holders(area=above, roles=ASSIGNER_ROLES),
        case=case,
        kind="extension_requested",
        title=_("Extension of %(days)s days requested: %(number)s")
        % {"days": days, "number": case.number},
        body=reason.strip(),
    )
    return request


def _approves_extensions(user, case: Case) -> bool:
    """The level above the handling area decides (a street for a community case …)."""
    from grids.selectors import user_scope

    scope = user_scope(user)
    if scope.sees_everything:
        return True
    path = case.handling_area.path
    return any(
        a.area_id and a.role in permissions.MANAGER_ROLES and a.role != "mediator"
        and path.startswith(a.area.path) and len(a.area.path) < len(path)
        for a in scope.assignments
    )  # fmt: skip


@transaction.atomic
def extension_decide(*, extension, actor: User, approve: bool, note: str = ""):
    from .models import ExtensionRequest

    case = _lock(extension.case)
    extension = ExtensionRequest.objects.select_for_update().get(pk=extension.pk)
    _require(_approves_extensions(actor, case))
    if extension.status != ExtensionRequest.Status.PENDING:
        raise TransitionError(case, _("decided again (the request is already decided)"))
    if approve and case.status not in OPEN_STATUSES:
        # A closed case's on-time flag was judged against the deadline it had; moving the
        # deadline afterwards would make the ledger contradict itself. Refusing stays possible.
        raise TransitionError(case, _("given more time"))
    now = timezone.now()
    extension.status = "approved" if approve else "refused"
    extension.decided_by, extension.decided_at, extension.decision_note = actor, now, note
    extension.old_close_due_at = case.close_due_at
    if approve:
        _record_missed(case)  # a deadline already missed stays missed in the timeline
        case.close_due_at = clock.extend(case.sla_policy, case.close_due_at, extension.days)
        extension.new_close_due_at = case.close_due_at
        if case.close_due_at > now:
            clock.check_of(case).breached_close = False  # a new deadline can be missed again
        _save(case, "close_due_at")
    extension.save()
    _event(
        case,
        kind=CaseEvent.Kind.EXTENSION_APPROVED if approve else CaseEvent.Kind.EXTENSION_REFUSED,
        actor=actor,
        from_status=case.status,
        note=note,
        data={"days": extension.days,
              "close_due_at": case.close_due_at.isoformat() if approve else ""},
    )  # fmt: skip
    from notifications.services import notify

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


@transaction.atomic
def case_pause_clock(*, case: Case, actor: User, note: str = "") -> Case:
    """While a court reviews a judicial-confirmation request the closing clock may stop, if
    the case's policy says so."""
    case = _lock(case)
    _require(case.mediator_id == actor.pk or permissions.is_manager(actor, case))
    _require_status(case, [S.IN_MEDIATION], _("paused"))
    if not (case.sla_policy and case.sla_policy.pause_for_judicial_review):
        raise TransitionError(case, _("paused (its policy does not allow pausing)"))
    if case.clock_paused_at is not None:
        raise TransitionError(case, _("paused again"))
    case.clock_paused_at = timezone.now()
    _save(case, "clock_paused_at")
    _event(case, kind=CaseEvent.Kind.CLOCK_PAUSED, actor=actor, from_status=case.status, note=note)
    return case


@transaction.atomic
def case_resume_clock(*, case: Case, actor: User, note: str = "") -> Case:
    case = _lock(case)
    _require(case.mediator_id == actor.pk or permissions.is_manager(actor, case))
    if case.clock_paused_at is None:
        raise TransitionError(case, _("resumed (its clock is running)"))
    paused_for = timezone.now() - case.clock_paused_at
    case.close_due_at += paused_for
    case.clock_paused_at = None
    _save(case, "clock_paused_at", "close_due_at")
    _event(case, kind=CaseEvent.Kind.CLOCK_RESUMED, actor=actor, from_status=case.status,
           note=note, data={"paused_seconds": int(paused_for.total_seconds())})  # fmt: skip
    return case

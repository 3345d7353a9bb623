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

from . import permissions, sla
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
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("handling_area", "category")
        .get(pk=case.pk)
    )


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
    case.save(update_fields=[*fields, "updated_at"])


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
    actor: User,
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
) -> Case:
    """File a dispute. A grid worker may record it as resolved on the spot ("small matters
    stay in the grid"), which keeps it in the grid's ledger as resolved."""
    _require(permissions.can_file(actor))
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
        **sla.deadlines_for(now),
        **ancestor_ids(routed.ancestors),
    )
    # The copied ancestor columns are derived, not input: a grid straight under a street
    # has no community, and validating them as required fields would refuse its cases.
    case.full_clean(exclude=["number", "district", "street", "community", "grid"])
    case.save()
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
        _save(
            case, "status", "resolved_on_spot", "mediator", "outcome", "outcome_note",
            "accepted_at", "assigned_at", "first_progress_at", "outcome_at", "resolved_at",
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
    _save(case, "status", "mediator", "assigned_at", "accepted_at")
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
        fields.append("first_progress_at")
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
    _save(case, "status", "closed_at", "close_kind", "outcome")
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
    from_status = case.status
    case.status = S.IN_MEDIATION if case.mediator_id else S.ACCEPTED
    case.reopened_at = timezone.now()
    case.close_kind = ""
    case.closed_at = case.resolved_at = None
    _save(case, "status", "reopened_at", "close_kind", "closed_at", "resolved_at")
    _event(case, kind=CaseEvent.Kind.REOPENED, actor=actor, from_status=from_status, note=reason)
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

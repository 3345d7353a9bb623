"""Every write of linkage referrals. Each one puts an entry on the case timeline
(disputes.services.case_record) and tells the next person (the mediator and the unit that
runs the case's queue) in the same transaction; the court-entrusted limit runs on the
exactly-once timers (sla/timers.py, handlers in timers.py)."""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import StateConflict
from disputes import permissions
from disputes import services as case_services
from disputes.models import Case, CaseEvent, CaseStatus
from notifications.services import ASSIGNER_ROLES, holders, notify
from sla import timers

from .models import (
    ENTRUSTED_LIMIT,
    EXTENSION,
    LIMIT_DUE,
    LIMIT_WARNING,
    WARN_BEFORE,
    Direction,
    Entrustment,
    LinkageKind,
    Referral,
    Result,
)

K = CaseEvent.Kind
# A referral is recorded while the case is being worked on (a case referred out through
# the workflow's "refer" still follows its partner's result).
RECORDABLE = (
    CaseStatus.FILED,
    CaseStatus.SENT_BACK,
    CaseStatus.ACCEPTED,
    CaseStatus.ASSIGNED,
    CaseStatus.IN_MEDIATION,
    CaseStatus.REFERRED,
)
TEXT_MAX = 2000


def may_handle(user, case: Case) -> bool:
    """Who records referrals and their results: the case's mediator and whoever runs its
    queue (the handling unit and the levels above)."""
    return case.mediator_id == user.pk or permissions.is_manager(user, case)


def _require(allowed: bool):
    if not allowed:
        raise PermissionDenied(_("You may not record linkage referrals for this case."))


def _text(value, field: str, *, required: bool, limit: int = TEXT_MAX) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError({field: [_("Enter text.")]})
    value = value.strip()
    if required and not value:
        raise ValidationError({field: [_("This field is required.")]})
    if len(value) > limit:
        raise ValidationError({field: [_("At most %(n)d characters.") % {"n": limit}]})
    return value


def _choice(value, choices, field: str, *, blank: bool = False) -> str:
    if value in (None, "") and blank:
        return ""
    if value not in choices.values or value == "":
        raise ValidationError({field: [_("Choose one of the options.")]})
    return value


def tell_next(referral: Referral, actor, kind: str, title: str, body: str = "") -> None:
    """The next person: the mediator, the unit that runs the case's queue, and whoever
    recorded the referral (waiting for its result)."""
    case = referral.case
    people = [*holders(area=case.handling_area, roles=ASSIGNER_ROLES), referral.created_by]
    if case.mediator_id:
        people.append(case.mediator)
    users = {u.pk: u for u in people if actor is None or u.pk != actor.pk}
    notify(users=users.values(), case=case, kind=kind, title=title, body=body or case.cause)


def _arm(referral: Referral) -> None:
    timers.arm(LIMIT_WARNING, referral.pk, referral.due_at - WARN_BEFORE, case_id=referral.case_id)
    timers.arm(LIMIT_DUE, referral.pk, referral.due_at, case_id=referral.case_id)


def _disarm(referral: Referral) -> None:
    timers.disarm(LIMIT_WARNING, referral.pk)
    timers.disarm(LIMIT_DUE, referral.pk)


@transaction.atomic
def referral_record(
    *,
    case: Case,
    actor,
    direction: str,
    kind: str,
    partner: str,
    partner_case_number: str = "",
    entrustment: str = "",
    note: str = "",
    started_at: datetime | None = None,
) -> Referral:
    """Record a case received from (in) or sent to (out) a linked body. A court-entrusted
    mediation (委派/委托调解, court and in only) gets its 30-day limit."""
    _require(may_handle(actor, case))
    direction = _choice(direction, Direction, "direction")
    kind = _choice(kind, LinkageKind, "kind")
    partner = _text(partner, "partner", required=True, limit=100)
    partner_case_number = _text(
        partner_case_number, "partner_case_number", required=False, limit=64
    )
    note = _text(note, "note", required=False)
    entrustment = _choice(entrustment, Entrustment, "entrustment", blank=True)
    if entrustment and (kind != LinkageKind.COURT or direction != Direction.IN):
        raise ValidationError(
            {"entrustment": [_("Only a case received from a court can be court-entrusted.")]}
        )
    now = timezone.now()
    started_at = started_at or now
    if started_at > now:
        raise ValidationError({"started_at": [_("The date cannot be in the future.")]})
    if started_at < case.filed_at and direction == Direction.OUT:
        raise ValidationError({"started_at": [_("A case is sent on after it was filed.")]})
    # Under the case's lock: a referral and a close at the same moment are taken in turn.
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("handling_area", "mediator")
        .get(pk=case.pk)
    )
    if case.status not in RECORDABLE:
        raise StateConflict(
            _("A referral cannot be recorded on a case that is %(status)s.")
            % {"status": case.get_status_display()}
        )
    referral = Referral.objects.create(
        case=case,
        kind=kind,
        direction=direction,
        partner=partner,
        partner_case_number=partner_case_number,
        entrustment=entrustment,
        note=note,
        started_at=started_at,
        due_at=started_at + ENTRUSTED_LIMIT if entrustment else None,
        created_by=actor,
    )
    if referral.due_at:
        _arm(referral)
    event_kind = K.LINKAGE_IN if direction == Direction.IN else K.LINKAGE_OUT
    case_services.case_record(
        case=case,
        kind=event_kind,
        actor=actor,
        note=note,
        data={
            "referral": referral.pk,
            "linkage": kind,
            "partner": partner,
            "partner_case_number": partner_case_number,
            "entrustment": entrustment,
            "due_at": referral.due_at.isoformat() if referral.due_at else None,
        },
    )
    label = referral.get_kind_display()
    if direction == Direction.IN:
        title = _("Case received from %(partner)s (%(kind)s): %(number)s")
    else:
        title = _("Case sent to %(partner)s (%(kind)s), follow its result: %(number)s")
    tell_next(
        referral,
        actor,
        f"case_linkage_{direction}",
        title % {"partner": partner, "kind": label, "number": case.number},
    )
    return referral


def _locked(referral: Referral) -> Referral:
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("case", "case__handling_area", "case__mediator", "created_by")
        .get(pk=referral.pk)
    )


@transaction.atomic
def referral_result(
    *, referral: Referral, actor, result: str, note: str = "", partner_case_number=None
) -> Referral:
    """The partner's result recorded back (out), or the result sent back to the partner
    (in: a court-entrusted mediation ends here). Once: a second result is a conflict."""
    _require(may_handle(actor, referral.case))
    result = _choice(result, Result, "result")
    note = _text(note, "note", required=result in (Result.OTHER, Result.RETURNED))
    number = None
    if partner_case_number is not None:
        number = _text(partner_case_number, "partner_case_number", required=False, limit=64)
    referral = _locked(referral)
    if referral.status != Referral.Status.PENDING:
        raise StateConflict(_("The result of this referral is recorded already."))
    now = timezone.now()
    referral.status, referral.result, referral.result_note = Referral.Status.FINISHED, result, note
    referral.result_at, referral.result_by = now, actor
    if number:
        referral.partner_case_number = number
    if referral.due_at:
        referral.finished_on_time = now <= referral.due_at
        _disarm(referral)
    referral.save(
        update_fields=[
            "status",
            "result",
            "result_note",
            "result_at",
            "result_by",
            "partner_case_number",
            "finished_on_time",
            "updated_at",
        ]
    )
    case_services.case_record(
        case=referral.case,
        kind=K.LINKAGE_RESULT,
        actor=actor,
        note=note,
        data={
            "referral": referral.pk,
            "linkage": referral.kind,
            "direction": referral.direction,
            "result": result,
            "partner": referral.partner,
            "partner_case_number": referral.partner_case_number,
            "on_time": referral.finished_on_time,
        },
    )
    tell_next(
        referral,
        actor,
        "case_linkage_result",
        _("Linkage result recorded (%(result)s): %(number)s")
        % {"result": referral.get_result_display(), "number": referral.case.number},
    )
    return referral


@transaction.atomic
def referral_extend(*, referral: Referral, actor, reason: str, parties_consent: bool) -> Referral:
    """One extension of a court-entrusted mediation's limit, by 30 days, with the parties'
    consent, asked before the limit has passed."""
    _require(may_handle(actor, referral.case))
    reason = _text(reason, "reason", required=True)
    if parties_consent is not True:
        raise ValidationError(
            {"parties_consent": [_("The parties must agree to extend the limit.")]}
        )
    referral = _locked(referral)
    if not referral.entrusted:
        raise StateConflict(_("Only a court-entrusted mediation has a limit to extend."))
    if referral.status != Referral.Status.PENDING:
        raise StateConflict(_("This referral is finished."))
    if referral.extended_at:
        raise StateConflict(_("The limit was extended once already."))
    now = timezone.now()
    if now > referral.due_at:
        raise StateConflict(_("The limit has passed; it can no longer be extended."))
    before = referral.due_at
    referral.due_at, referral.extended_at, referral.extension_reason = (
        before + EXTENSION,
        now,
        reason,
    )
    referral.save(update_fields=["due_at", "extended_at", "extension_reason", "updated_at"])
    _arm(referral)
    case_services.case_record(
        case=referral.case,
        kind=K.LINKAGE_EXTENDED,
        actor=actor,
        note=reason,
        data={
            "referral": referral.pk,
            "from": before.isoformat(),
            "to": referral.due_at.isoformat(),
        },
    )
    tell_next(
        referral,
        actor,
        "case_linkage_extended",
        _("Court-entrusted limit extended to %(date)s: %(number)s")
        % {
            "date": timezone.localtime(referral.due_at).strftime("%Y-%m-%d"),
            "number": referral.case.number,
        },
    )
    return referral

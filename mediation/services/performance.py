"""After the agreement: each obligation performed (or found overdue by its timer), and the
judicial confirmation (司法确认) applied for within 30 days and decided by the court."""

from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import StateConflict
from disputes.attachments import attachment_check
from sla import timers

from ..models import (
    Agreement,
    AgreementStatus,
    ConfirmationStatus,
    JudicialConfirmation,
    Obligation,
    ObligationStatus,
)
from ..timer_kinds import CONFIRMATION_WINDOW, COURT_DECISION, OBLIGATION_DUE, OBLIGATION_WARN
from .common import AFTER_AGREEMENT, locked_case, record
from .signing import CONFIRMATION_DAYS

COURT_DAYS = 3
CS = ConfirmationStatus


def _checked_file(upload, field: str):
    if upload is None:
        return
    try:
        attachment_check(upload)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc
    upload.seek(0)


@transaction.atomic
def obligation_perform(*, obligation: Obligation, actor, note: str = "", proof=None) -> Obligation:
    _checked_file(proof, "proof")
    case = locked_case(obligation.agreement.case, actor, AFTER_AGREEMENT, _("given a performance"))
    obligation = (
        Obligation.objects.select_for_update()
        .select_related("agreement", "party")
        .get(pk=obligation.pk)
    )
    if obligation.agreement.status != AgreementStatus.SIGNED:
        raise StateConflict(_("Only a signed agreement's obligations are performed."))
    if obligation.status == ObligationStatus.PERFORMED:
        raise StateConflict(_("This obligation is recorded as performed already."))
    late = obligation.status == ObligationStatus.OVERDUE
    obligation.status, obligation.performed_at = ObligationStatus.PERFORMED, timezone.now()
    obligation.performed_note, obligation.performed_by = note.strip()[:300], actor
    if proof is not None:
        obligation.proof.save(f"proof-{obligation.pk}-{proof.name}"[-90:], proof, save=False)
    obligation.save(
        update_fields=["status", "performed_at", "performed_note", "performed_by", "proof"]
    )
    timers.disarm(OBLIGATION_WARN, obligation.pk)
    timers.disarm(OBLIGATION_DUE, obligation.pk)
    text = _("%(party)s performed: %(what)s") % {
        "party": obligation.party.name,
        "what": obligation.description,
    }
    if late:
        text += "（" + _("after the deadline") + "）"
    record(case, actor, "obligation_performed", text, obligation=obligation.pk)
    return obligation


def _end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time(0)))


@transaction.atomic
def confirmation_apply(
    *, agreement: Agreement, actor, court: str, applied_on
) -> JudicialConfirmation:
    """The parties' joint application, on or after the day the agreement took effect and
    within 30 days of it; the court then has 3 days to accept it or not."""
    if not court.strip():
        raise ValidationError({"court": [_("Name the court.")]})
    if not isinstance(applied_on, date):
        raise ValidationError({"applied_on": [_("Give the date of the application.")]})
    case = locked_case(agreement.case, actor, AFTER_AGREEMENT, _("given a judicial confirmation"))
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if agreement.status != AgreementStatus.SIGNED:
        raise StateConflict(_("Only a signed agreement can be confirmed by a court."))
    effective = timezone.localtime(agreement.signed_at).date()
    last = effective + timedelta(days=CONFIRMATION_DAYS)
    if not effective <= applied_on <= min(last, timezone.localdate()):
        raise ValidationError(
            {
                "applied_on": [
                    _(
                        "The application must be made between %(first)s and %(last)s, "
                        "and not in the future."
                    )
                    % {"first": effective.isoformat(), "last": last.isoformat()}
                ]
            }
        )
    try:
        with transaction.atomic():
            confirmation = JudicialConfirmation.objects.create(
                agreement=agreement,
                court=court.strip()[:100],
                applied_on=applied_on,
                created_by=actor,
            )
    except IntegrityError as exc:
        raise StateConflict(_("A judicial confirmation was applied for already.")) from exc
    timers.disarm(CONFIRMATION_WINDOW, agreement.pk)
    timers.arm(
        COURT_DECISION,
        confirmation.pk,
        _end_of(applied_on + timedelta(days=COURT_DAYS)),
        case_id=case.pk,
    )
    record(
        case,
        actor,
        "confirmation_applied",
        _("Judicial confirmation applied for at %(court)s on %(day)s")
        % {"court": confirmation.court, "day": applied_on.isoformat()},
        confirmation=confirmation.pk,
    )
    return confirmation


NEXT = {CS.APPLIED: (CS.ACCEPTED, CS.NOT_ACCEPTED), CS.ACCEPTED: (CS.CONFIRMED, CS.REFUSED)}


@transaction.atomic
def confirmation_record(
    *,
    confirmation: JudicialConfirmation,
    actor,
    status: str,
    decided_on=None,
    ruling_number: str = "",
    ruling_date=None,
    papers=None,
) -> JudicialConfirmation:
    """The court's answers: accepted or not (with the day), then the ruling (confirmed or
    refused, with its number and date and the papers)."""
    _checked_file(papers, "papers")
    case = locked_case(
        confirmation.agreement.case, actor, AFTER_AGREEMENT, _("given the court's decision")
    )
    confirmation = JudicialConfirmation.objects.select_for_update().get(pk=confirmation.pk)
    if status not in NEXT.get(confirmation.status, ()):
        raise StateConflict(
            _("The application is “%(status)s”; that cannot be recorded now.")
            % {"status": confirmation.get_status_display()}
        )
    if status in (CS.ACCEPTED, CS.NOT_ACCEPTED):
        if not isinstance(decided_on, date) or decided_on < confirmation.applied_on:
            raise ValidationError(
                {"decided_on": [_("Give the day the court decided, not before the application.")]}
            )
        confirmation.decided_on = decided_on
        timers.disarm(COURT_DECISION, confirmation.pk)
    else:
        errors = {}
        if not ruling_number.strip():
            errors["ruling_number"] = [_("Give the ruling's number.")]
        if not isinstance(ruling_date, date) or ruling_date < confirmation.applied_on:
            errors["ruling_date"] = [_("Give the ruling's date, not before the application.")]
        if errors:
            raise ValidationError(errors)
        confirmation.ruling_number, confirmation.ruling_date = (
            ruling_number.strip()[:60],
            ruling_date,
        )
        if papers is not None:
            confirmation.papers.save(f"ruling-{confirmation.pk}.pdf", papers, save=False)
    confirmation.status = status
    confirmation.save()
    label = str(CS(status).label)
    if confirmation.ruling_number and status in (CS.CONFIRMED, CS.REFUSED):
        label += f"（{confirmation.ruling_number}）"
    record(
        case,
        actor,
        "confirmation_" + status,
        _("Judicial confirmation: %(what)s") % {"what": label},
        confirmation=confirmation.pk,
    )
    return confirmation

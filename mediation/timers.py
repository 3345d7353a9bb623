"""The mediation deadlines, through the shared exactly-once timers (sla/timers.py); each
recorded once on the case's timeline, stamped at the true deadline, whoever must act told:

- an obligation's deadline near → the obliged party reminded by SMS, the mediator told;
- an obligation's deadline passed unperformed → marked overdue, the party and the mediator told;
- 30 days after the agreement took effect without an application for judicial confirmation
  → the window's end recorded, the mediator told (the parties may no longer apply);
- the court's 3 days to accept an application passed without a decision → recorded, marked,
  the mediator told (to chase the court).

Each handler locks its rows and re-checks them: a performance or a decision recorded at the
same moment either committed first (nothing to do) or waits for us."""

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from disputes.models import CaseEvent
from disputes.services import case_record
from notifications.services import Message, notify_many, sms_send
from sla import timers

from .models import (
    Agreement,
    AgreementStatus,
    ConfirmationStatus,
    JudicialConfirmation,
    Obligation,
    ObligationStatus,
)
from .timer_kinds import CONFIRMATION_WINDOW, COURT_DECISION, OBLIGATION_DUE, OBLIGATION_WARN

REMINDER = "【履行提醒】{name}您好：按调解协议{number}，您应于{due}前{what}，请按时履行。"
OVERDUE = "【履行提醒】{name}您好：按调解协议{number}，您应于{due}前{what}，现已逾期，请尽快履行。"


def _event(case, step: str, note: str, at: datetime, **data):
    case_record(
        case=case,
        kind=CaseEvent.Kind.MEDIATION,
        actor=None,
        note=note,
        at=at,
        data={"step": step, **data},
    )


def _obligations(due: list[timers.Due]):
    return list(
        Obligation.objects.select_for_update(of=("self",))
        .select_related("party", "agreement", "agreement__case", "agreement__mediator")
        .filter(
            pk__in=[d.object_id for d in due],
            status=ObligationStatus.PENDING,
            agreement__status=AgreementStatus.SIGNED,
        )
    )


def _remind(obligation: Obligation, text: str) -> None:
    if obligation.party.phone:
        sms_send(
            phone=obligation.party.phone,
            event="mediation_obligation",
            default=text,
            values={
                "name": obligation.party.name,
                "number": obligation.agreement.number,
                "due": date_format(obligation.due_on, "Y-m-d"),
                "what": obligation.description[:60],
            },
        )


@timers.handler(OBLIGATION_WARN)
def obligation_warn(due: list[timers.Due], now: datetime) -> None:
    at = {d.object_id: d.due_at for d in due}
    messages = []
    for obligation in _obligations(due):
        case = obligation.agreement.case
        _remind(obligation, REMINDER)
        note = _("Reminder: %(party)s must %(what)s by %(due)s") % {
            "party": obligation.party.name,
            "what": obligation.description,
            "due": obligation.due_on.isoformat(),
        }
        _event(case, "obligation_due_soon", note, at[obligation.pk], obligation=obligation.pk)
        messages.append(
            Message(
                users=[obligation.agreement.mediator],
                case=case,
                kind="sla_mediation_obligation_soon",
                title=_("Obligation due soon: %(number)s") % {"number": case.number},
                body=note,
            )
        )
    notify_many(messages)


@timers.handler(OBLIGATION_DUE)
def obligation_overdue(due: list[timers.Due], now: datetime) -> None:
    at = {d.object_id: d.due_at for d in due}
    rows = _obligations(due)
    Obligation.objects.filter(pk__in=[o.pk for o in rows]).update(status=ObligationStatus.OVERDUE)
    messages = []
    for obligation in rows:
        case = obligation.agreement.case
        _remind(obligation, OVERDUE)
        note = _("Overdue: %(party)s did not %(what)s by %(due)s") % {
            "party": obligation.party.name,
            "what": obligation.description,
            "due": obligation.due_on.isoformat(),
        }
        _event(case, "obligation_overdue", note, at[obligation.pk], obligation=obligation.pk)
        messages.append(
            Message(
                users=[obligation.agreement.mediator],
                case=case,
                kind="sla_mediation_obligation_overdue",
                title=_("Obligation overdue: %(number)s") % {"number": case.number},
                body=note,
            )
        )
    notify_many(messages)


@timers.handler(CONFIRMATION_WINDOW)
def confirmation_window_passed(due: list[timers.Due], now: datetime) -> None:
    at = {d.object_id: d.due_at for d in due}
    agreements = (
        Agreement.objects.select_for_update(of=("self",))
        .select_related("case", "mediator")
        .filter(pk__in=at, status=AgreementStatus.SIGNED, confirmation__isnull=True)
    )
    messages = []
    for agreement in agreements:
        note = _(
            "No judicial confirmation was applied for within 30 days of agreement %(number)s"
        ) % {"number": agreement.number}
        _event(
            agreement.case,
            "confirmation_window_passed",
            note,
            at[agreement.pk],
            agreement=agreement.pk,
        )
        messages.append(
            Message(
                users=[agreement.mediator],
                case=agreement.case,
                kind="sla_mediation_window_closed",
                title=_("Judicial confirmation window closed: %(number)s")
                % {"number": agreement.case.number},
                body=note,
            )
        )
    notify_many(messages)


@timers.handler(COURT_DECISION)
def court_late(due: list[timers.Due], now: datetime) -> None:
    at = {d.object_id: d.due_at for d in due}
    rows = list(
        JudicialConfirmation.objects.select_for_update(of=("self",))
        .select_related("agreement", "agreement__case", "agreement__mediator")
        .filter(pk__in=at, status=ConfirmationStatus.APPLIED, court_late=False)
    )
    JudicialConfirmation.objects.filter(pk__in=[c.pk for c in rows]).update(
        court_late=True, updated_at=timezone.now()
    )
    messages = []
    for confirmation in rows:
        case = confirmation.agreement.case
        note = _("%(court)s has not decided within 3 days whether to accept the application") % {
            "court": confirmation.court
        }
        _event(case, "court_late", note, at[confirmation.pk], confirmation=confirmation.pk)
        messages.append(
            Message(
                users=[confirmation.agreement.mediator],
                case=case,
                kind="sla_mediation_court_late",
                title=_("Court decision overdue: %(number)s") % {"number": case.number},
                body=note,
            )
        )
    notify_many(messages)

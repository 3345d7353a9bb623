"""The court-entrusted limit (委派/委托调解, 30 days, once extended by 30) through the shared
exactly-once timers: a warning before it and the miss itself, each recorded once on the
case timeline at its true time and told to the mediator and the unit, however the sweeps
overlap or however late one runs."""

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from disputes import services as case_services
from disputes.models import CaseEvent
from sla import timers

from .models import LIMIT_DUE, LIMIT_WARNING, WARN_BEFORE, Referral
from .services import tell_next

K = CaseEvent.Kind


def _pending(due: list[timers.Due]) -> list[tuple[Referral, datetime]]:
    """The referrals still waiting for their result, locked: a result recorded at this
    moment either committed first (nothing to record) or waits for us."""
    at = {d.object_id: d.due_at for d in due}
    referrals = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("case", "case__handling_area", "case__mediator", "created_by")
        .filter(pk__in=at, status=Referral.Status.PENDING)
        .order_by("pk")
    )
    return [(r, at[r.pk]) for r in referrals]


@timers.handler(LIMIT_WARNING)
def limit_warning(due: list[timers.Due], now: datetime) -> None:
    for referral, warned_at in _pending(due):
        if referral.due_at - WARN_BEFORE != warned_at:
            continue  # the limit moved since the timer was set (re-armed with it)
        case_services.case_record(
            case=referral.case,
            kind=K.LINKAGE_DUE_SOON,
            actor=None,
            at=warned_at,
            data={"referral": referral.pk, "due_at": referral.due_at.isoformat()},
        )
        tell_next(
            referral,
            None,
            "sla_linkage_due_soon",
            _("Court-entrusted mediation due by %(date)s: %(number)s")
            % {
                "date": timezone.localtime(referral.due_at).strftime("%Y-%m-%d"),
                "number": referral.case.number,
            },
        )


@timers.handler(LIMIT_DUE)
def limit_due(due: list[timers.Due], now: datetime) -> None:
    for referral, due_at in _pending(due):
        if referral.overdue_at is not None or referral.due_at != due_at:
            continue
        referral.overdue_at = due_at
        referral.save(update_fields=["overdue_at", "updated_at"])
        case_services.case_record(
            case=referral.case,
            kind=K.LINKAGE_OVERDUE,
            actor=None,
            at=due_at,
            data={"referral": referral.pk, "due_at": due_at.isoformat()},
        )
        tell_next(
            referral,
            None,
            "sla_linkage_overdue",
            _("Court-entrusted mediation past its limit: %(number)s")
            % {"number": referral.case.number},
        )

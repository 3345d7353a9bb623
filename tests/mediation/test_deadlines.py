"""The mediation deadlines, each recorded once however the sweeps overlap or stall, stamped
at the true deadline: an obligation's reminder and its breach, the 30-day window for judicial
confirmation and the court's 3 days; done in time, nothing fires. The confirmation's own
rules: the window, the order of the court's answers, one application."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from common.errors import StateConflict
from disputes.models import CaseEvent
from mediation import services
from mediation.models import Obligation
from mediation.services.performance import COURT_DAYS
from mediation.services.signing import confirmation_window_end, obligation_deadlines
from mediation.timer_kinds import COURT_DECISION, OBLIGATION_DUE
from notifications.models import Notification, OutboxMessage
from sla import timers
from tests.disputes.test_api import seeded, w  # noqa: F401
from tests.mediation.world import make_agreement, sign_everyone

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def steps(case, step):
    return list(case.events.filter(kind=CaseEvent.Kind.MEDIATION, data__step=step))


def sweeps(first):
    """Two overlapping sweeps at the same moment, another an hour later, one after an
    outage of three days."""
    for now in (first, first, first + HOUR, first + 3 * DAY):
        timers.sweep(now=now)


def signed(w, **extra):  # noqa: F811
    return sign_everyone(w, make_agreement(w, **extra))


def test_an_obligation_past_due_is_reminded_once_then_overdue_once(w):  # noqa: F811
    agreement = signed(w, days=10)
    case = agreement.case
    obligation = agreement.obligations.select_related("party").get(description="支付维修费用")
    warn_at, due_at = obligation_deadlines(obligation.due_on)
    sms = OutboxMessage.objects.filter(channel="sms", address=obligation.party.phone)
    sms_before = sms.count()

    timers.sweep(now=warn_at - HOUR)
    assert steps(case, "obligation_due_soon") == []
    sweeps(warn_at + HOUR)

    [reminder] = [
        e for e in steps(case, "obligation_due_soon") if e.data["obligation"] == obligation.pk
    ]
    assert reminder.at == warn_at and reminder.actor is None
    assert sms.count() == sms_before + 1 and "履行提醒" in sms.last().text
    assert (
        Notification.objects.filter(
            recipient=w.mediator, kind="sla_mediation_obligation_soon"
        ).count()
        == 2
    )

    sweeps(due_at + HOUR)
    sweeps(due_at + 5 * DAY)

    obligation.refresh_from_db()
    assert obligation.status == "overdue"
    overdue = [
        e for e in steps(case, "obligation_overdue") if e.data["obligation"] == obligation.pk
    ]
    assert [e.at for e in overdue] == [due_at]
    assert sms.count() == sms_before + 2


def test_an_obligation_performed_in_time_is_never_reminded(w):  # noqa: F811
    agreement = signed(w, days=10)
    for obligation in agreement.obligations.all():
        services.obligation_perform(obligation=obligation, actor=w.mediator, note="已履行")
    _warn_at, due_at = obligation_deadlines(agreement.obligations.first().due_on)
    sweeps(due_at + HOUR)
    assert steps(agreement.case, "obligation_due_soon") == []
    assert steps(agreement.case, "obligation_overdue") == []
    assert set(agreement.obligations.values_list("status", flat=True)) == {"performed"}


def test_performing_twice_a_judge_and_an_unsigned_agreement_are_refused(w):  # noqa: F811
    agreement = signed(w)
    obligation = agreement.obligations.first()
    with pytest.raises(PermissionDenied):
        services.obligation_perform(obligation=obligation, actor=w.judge)
    services.obligation_perform(obligation=obligation, actor=w.mediator)
    with pytest.raises(StateConflict):
        services.obligation_perform(obligation=obligation, actor=w.secretary)
    draft = make_agreement(w)
    with pytest.raises(StateConflict):
        services.obligation_perform(obligation=draft.obligations.first(), actor=w.mediator)
    assert Obligation.objects.filter(agreement=draft, status="performed").count() == 0


def test_no_application_within_30_days_is_recorded_once(w):  # noqa: F811
    agreement = signed(w, days=60)
    end = confirmation_window_end(agreement.signed_at)
    assert end - agreement.signed_at > 30 * DAY
    timers.sweep(now=end - HOUR)
    assert steps(agreement.case, "confirmation_window_passed") == []
    sweeps(end + HOUR)
    [event] = steps(agreement.case, "confirmation_window_passed")
    assert event.at == end
    assert (
        Notification.objects.filter(
            recipient=w.mediator, kind="sla_mediation_window_closed"
        ).count()
        == 1
    )


def test_an_application_in_time_stops_the_window_and_starts_the_courts_3_days(w):  # noqa: F811
    agreement = signed(w, days=60)
    today = timezone.localdate()
    confirmation = services.confirmation_apply(
        agreement=agreement, actor=w.mediator, court="渝中区人民法院", applied_on=today
    )
    court_due = timers.pending(COURT_DECISION, confirmation.pk)
    assert timezone.localtime(court_due).date() == today + timedelta(days=COURT_DAYS + 1)
    sweeps(confirmation_window_end(agreement.signed_at) + HOUR)

    assert steps(agreement.case, "confirmation_window_passed") == []
    [late] = steps(agreement.case, "court_late")
    assert late.at == court_due
    confirmation.refresh_from_db()
    assert confirmation.court_late and confirmation.status == "applied"


def test_a_court_decision_in_time_records_nothing_late(w):  # noqa: F811
    agreement = signed(w)
    today = timezone.localdate()
    confirmation = services.confirmation_apply(
        agreement=agreement, actor=w.mediator, court="渝中区人民法院", applied_on=today
    )
    services.confirmation_record(
        confirmation=confirmation, actor=w.mediator, status="accepted", decided_on=today
    )
    sweeps(timezone.now() + 10 * DAY)
    assert steps(agreement.case, "court_late") == []
    with pytest.raises(ValidationError):  # a ruling without its number
        services.confirmation_record(
            confirmation=confirmation, actor=w.mediator, status="confirmed", ruling_date=today
        )
    services.confirmation_record(
        confirmation=confirmation,
        actor=w.mediator,
        status="confirmed",
        ruling_number="（2026）渝0103民特123号",
        ruling_date=today,
    )
    confirmation.refresh_from_db()
    assert confirmation.status == "confirmed" and confirmation.ruling_number.endswith("123号")
    with pytest.raises(StateConflict):
        services.confirmation_record(
            confirmation=confirmation, actor=w.mediator, status="accepted", decided_on=today
        )


def test_applications_outside_the_window_twice_or_by_the_judge_are_refused(w):  # noqa: F811
    agreement = signed(w)
    today = timezone.localdate()
    for day in (today - 2 * DAY, today + DAY):
        with pytest.raises(ValidationError):
            services.confirmation_apply(
                agreement=agreement, actor=w.mediator, court="法院", applied_on=day
            )
    with pytest.raises(ValidationError):
        services.confirmation_apply(
            agreement=agreement, actor=w.mediator, court=" ", applied_on=today
        )
    with pytest.raises(PermissionDenied):
        services.confirmation_apply(
            agreement=agreement, actor=w.judge, court="法院", applied_on=today
        )
    services.confirmation_apply(
        agreement=agreement, actor=w.mediator, court="法院", applied_on=today
    )
    with pytest.raises(StateConflict):
        services.confirmation_apply(
            agreement=agreement, actor=w.secretary, court="法院", applied_on=today
        )
    with pytest.raises(StateConflict):
        services.confirmation_apply(
            agreement=make_agreement(w), actor=w.mediator, court="法院", applied_on=today
        )


def test_a_new_version_stops_the_old_obligations_timers(w):  # noqa: F811
    agreement = signed(w, days=10)
    obligation = agreement.obligations.first()
    assert timers.pending(OBLIGATION_DUE, obligation.pk)
    services.agreement_new_version(agreement=agreement, actor=w.mediator)
    assert timers.pending(OBLIGATION_DUE, obligation.pk) is None

"""Checking a resolution (核查): a resolved case waits for someone other than who resolved it;
pass closes it as substantively resolved, fail sends it back with the reason, the check's
own deadline is recorded once when missed, and the policy decides who checks (or nobody)."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from disputes import services
from disputes.ledger import TransitionError
from disputes.models import CaseEvent, CaseStatus, CloseKind, SupervisionCard
from disputes.supervision_models import VERIFY_DUE
from notifications.models import Notification
from sla import timers
from sla.models import VerifyBy
from tests.disputes.test_api import client_for, file_case, seeded  # noqa: F401

pytestmark = pytest.mark.django_db
S = CaseStatus
K = CaseEvent.Kind
HOUR = timedelta(hours=1)


@pytest.fixture
def w(seeded, db):  # noqa: F811
    return seeded


def resolved(w, verify_by=VerifyBy.UNIT):
    case = file_case(w)
    case.sla_policy.verify_by = verify_by
    case.sla_policy.save(update_fields=["verify_by"])
    services.case_assign(case=case, mediator=w.mediator, actor=w.secretary)
    services.case_progress(case=case, actor=w.mediator, note="上门调解")
    return services.case_resolve(case=case, actor=w.mediator, outcome="agreement", note="已签协议")


def test_a_resolution_waits_for_its_check_with_a_deadline(w):
    case = resolved(w)

    assert case.status == S.RESOLVED and case.resolved_by == w.mediator
    assert case.verify_due_at == case.resolved_at + timedelta(days=3)
    assert timers.pending(VERIFY_DUE, case.pk) == case.verify_due_at
    event = case.events.get(kind=K.RESOLVED)
    assert event.data["check_due_at"] == case.verify_due_at.isoformat()
    told = Notification.objects.filter(kind="case_resolved").values_list("recipient__username")
    assert ("secretary",) in set(told)


@pytest.mark.parametrize("how", ["verify", "close"])
def test_who_resolved_it_may_not_check_it(w, how):
    case = resolved(w)
    with pytest.raises(PermissionDenied):
        if how == "verify":
            services.case_verify(case=case, actor=w.mediator, passed=True)
        else:
            services.case_close(case=case, actor=w.mediator)
    case.refresh_from_db()
    assert case.status == S.RESOLVED


def test_a_check_passed_closes_it_as_substantively_resolved(w):
    case = resolved(w)
    case = services.case_verify(case=case, actor=w.secretary, passed=True, note="电话回访属实")

    case.refresh_from_db()
    assert (case.status, case.close_kind) == (S.CLOSED, CloseKind.SUBSTANTIVE)
    assert case.verify_due_at is None and case.closed_on_time
    closed = case.events.get(kind=K.CLOSED)
    assert closed.data["checked"] is True and closed.note == "电话回访属实"
    assert timers.pending(VERIFY_DUE, case.pk) is None


def test_a_check_failed_sends_it_back_to_the_handler_with_the_clock_running(w):
    case = resolved(w)
    close_due = case.close_due_at
    case = services.case_verify(case=case, actor=w.secretary, passed=False, note="当事人称未付款")

    case.refresh_from_db()
    assert case.status == S.IN_MEDIATION
    assert case.resolved_at is None and case.verify_due_at is None
    assert case.close_due_at == close_due
    assert case.events.get(kind=K.VERIFY_FAILED).note == "当事人称未付款"
    told = set(Notification.objects.filter(kind="case_verify_failed").values_list(
        "recipient__username", flat=True))  # fmt: skip
    assert told == {"mediator"}
    assert timers.pending(VERIFY_DUE, case.pk) is None
    # The mediator works on and resolves it again: a new check is due.
    case = services.case_resolve(case=case, actor=w.mediator, note="已补付")
    assert case.verify_due_at is not None


def test_a_failed_check_needs_a_reason_and_saves_nothing_without_one(w):
    case = resolved(w)
    with pytest.raises(ValidationError) as error:
        services.case_verify(case=case, actor=w.secretary, passed=False, note=" ")
    assert "note" in error.value.message_dict
    case.refresh_from_db()
    assert case.status == S.RESOLVED
    assert not case.events.filter(kind=K.VERIFY_FAILED).exists()


def test_only_a_resolved_case_is_checked(w):
    case = file_case(w)
    with pytest.raises(TransitionError):
        services.case_verify(case=case, actor=w.secretary, passed=True)


def test_an_outsider_may_not_check(w):
    case = resolved(w)
    with pytest.raises(PermissionDenied):
        services.case_verify(case=case, actor=w.gridworker2, passed=True)


def test_with_checks_off_the_handler_closes_as_before(w):
    case = resolved(w, VerifyBy.OFF)
    assert case.verify_due_at is None
    case = services.case_close(case=case, actor=w.mediator)
    assert (case.status, case.close_kind) == (S.CLOSED, CloseKind.SUBSTANTIVE)


def test_the_filing_grid_worker_checks_on_site_when_the_policy_says_so(w):
    case = resolved(w, VerifyBy.FILER)
    assert case.filed_by == w.gridworker
    case = services.case_verify(case=case, actor=w.gridworker, passed=True, note="现场核实")
    assert case.status == S.CLOSED


def test_a_check_not_made_in_time_is_recorded_once_with_a_yellow_card(w, time_machine):
    case = resolved(w)
    due = case.verify_due_at

    assert timers.sweep(now=due - HOUR) == 0
    timers.sweep(now=due + HOUR)
    timers.sweep(now=due + HOUR)
    timers.sweep(now=due + 72 * HOUR)  # and after a three-day outage

    [late] = case.events.filter(kind=K.VERIFY_OVERDUE)
    assert late.at == due
    [card] = SupervisionCard.objects.filter(case=case)
    assert (card.colour, card.step, card.issued_at) == ("yellow", "not_verified", due)
    assert Notification.objects.filter(kind="verify_overdue", recipient=w.secretary).count() == 1
    # Checked late: still closes, and says it was late.
    time_machine.move_to(due + 73 * HOUR)
    case = services.case_verify(case=case, actor=w.secretary, passed=True)
    assert case.events.get(kind=K.CLOSED).data["checked_late"] is True


def test_a_check_made_in_time_records_nothing(w):
    case = resolved(w)
    due = case.verify_due_at
    services.case_verify(case=case, actor=w.secretary, passed=True)
    assert timers.sweep(now=due + HOUR) == 0
    assert not case.events.filter(kind=K.VERIFY_OVERDUE).exists()


def test_reopening_clears_a_pending_check(w):
    case = resolved(w)
    case = services.case_reopen(case=case, actor=w.secretary, reason="当事人反映未履行")
    case.refresh_from_db()
    assert case.verify_due_at is None and case.resolved_by is None
    assert timers.pending(VERIFY_DUE, case.pk) is None


def test_the_api_checks_and_refuses_alike(w):
    case = resolved(w)
    url = f"/api/v1/cases/{case.pk}/verify/"

    own = client_for(w.mediator).post(url, {"passed": True}, format="json")
    bad = client_for(w.secretary).post(url, {"note": "x"}, format="json")
    no_reason = client_for(w.secretary).post(url, {"passed": False}, format="json")
    assert (own.status_code, bad.status_code, no_reason.status_code) == (403, 400, 400)
    assert "passed" in bad.json()["errors"] and "note" in no_reason.json()["errors"]
    case.refresh_from_db()
    assert case.status == S.RESOLVED

    ok = client_for(w.secretary).post(url, {"passed": True}, format="json")
    again = client_for(w.street).post(url, {"passed": True}, format="json")
    assert ok.status_code == 200, ok.content
    assert ok.json()["status"] == "closed"
    assert again.status_code == 409


def test_the_case_page_offers_the_check_to_the_checker_only(client, w):
    case = resolved(w)
    client.force_login(w.secretary)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-action="verify"' in page
    client.force_login(w.mediator)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-action="verify"' not in page and 'data-action="close"' not in page

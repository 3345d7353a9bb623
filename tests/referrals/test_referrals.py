"""Linkage referrals (联动): recorded in and out with the partner's case number, the result
recorded back, a court-entrusted mediation's 30-day limit (warned and missed once, however
the sweeps overlap or stall; extended once with the parties' consent), each step on the
timeline and told to the next person; who may, bad input, wrong state, scope."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from common.errors import StateConflict
from disputes import services as case_services
from disputes.models import CaseEvent
from notifications.models import Notification
from referrals import services
from referrals.models import LIMIT_DUE, LIMIT_WARNING, Referral
from sla import timers
from tests.disputes.test_api import client_for, file_case, seeded  # noqa: F401

pytestmark = pytest.mark.django_db
K = CaseEvent.Kind
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.fixture
def w(seeded, db):  # noqa: F811
    return seeded


def record(w, case, *, actor=None, **extra):
    data = {
        "direction": "out",
        "kind": "court",
        "partner": "渝中区人民法院",
        "partner_case_number": "(2026)渝0103民诉前调123号",
    } | extra
    return services.referral_record(case=case, actor=actor or w.mediator, **data)


def entrusted(w, case=None, **extra):
    return record(w, case or file_case(w), direction="in", entrustment="entrusted", **extra)


def told(kind):
    return set(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


# --- recording --------------------------------------------------------------------------


def test_it_records_an_outgoing_court_referral_on_the_timeline_and_tells_the_unit(w):
    case = file_case(w)
    referral = record(w, case, note="当事人同意诉前调解")

    assert (referral.kind, referral.direction, referral.status) == ("court", "out", "pending")
    assert referral.due_at is None  # only a court-entrusted mediation has the limit
    [event] = case.events.filter(kind=K.LINKAGE_OUT)
    assert event.actor == w.mediator
    assert event.data["partner_case_number"] == "(2026)渝0103民诉前调123号"
    assert "secretary" in told("case_linkage_out")
    assert "mediator" not in told("case_linkage_out")  # never the person who acted


def test_a_court_entrusted_mediation_gets_its_30_day_limit_and_timers(w):
    referral = entrusted(w)

    assert referral.due_at == referral.started_at + 30 * DAY
    assert timers.pending(LIMIT_DUE, referral.pk) == referral.due_at
    assert timers.pending(LIMIT_WARNING, referral.pk) == referral.due_at - 5 * DAY
    assert referral.case.events.filter(kind=K.LINKAGE_IN).count() == 1


def test_an_incoming_referral_may_be_dated_back_before_filing(w):
    case = file_case(w)
    started = case.filed_at - 2 * DAY  # the police handed it over, then it was entered
    referral = record(w, case, direction="in", kind="police", partner="解放碑派出所",
                      started_at=started)  # fmt: skip
    assert referral.started_at == started


def test_the_partners_result_is_recorded_back_once(w):
    case = file_case(w)
    referral = record(w, case)
    done = services.referral_result(
        referral=referral, actor=w.secretary, result="agreement", note="法院出具调解书",
        partner_case_number="(2026)渝0103民初456号",
    )  # fmt: skip

    assert (done.status, done.result) == ("finished", "agreement")
    assert done.partner_case_number == "(2026)渝0103民初456号"
    assert case.events.filter(kind=K.LINKAGE_RESULT).count() == 1
    assert "mediator" in told("case_linkage_result")
    with pytest.raises(StateConflict):
        services.referral_result(referral=referral, actor=w.secretary, result="failed")
    assert case.events.filter(kind=K.LINKAGE_RESULT).count() == 1


# --- who may, bad input, wrong state ----------------------------------------------------------


def test_only_the_mediator_and_the_unit_may_record(w):
    case = file_case(w)
    for outsider in (w.judge, w.gridworker2, w.labour):
        with pytest.raises(PermissionDenied):
            record(w, case, actor=outsider)
    referral = record(w, case)
    with pytest.raises(PermissionDenied):
        services.referral_result(referral=referral, actor=w.judge, result="failed")
    assert Referral.objects.filter(case=case).count() == 1


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"partner": "   "}, "partner"),
        ({"kind": "army"}, "kind"),
        ({"direction": "sideways"}, "direction"),
        ({"entrustment": "entrusted"}, "entrustment"),  # out: only a court's case coming in
        ({"direction": "in", "kind": "police", "entrustment": "entrusted"}, "entrustment"),
        ({"partner": "法" * 101}, "partner"),
    ],
)
def test_bad_input_is_refused_field_by_field_and_nothing_saved(w, extra, field):
    case = file_case(w)
    with pytest.raises(ValidationError) as refused:
        record(w, case, **extra)
    assert field in refused.value.message_dict
    assert not Referral.objects.filter(case=case).exists()
    assert not case.events.filter(kind__startswith="linkage").exists()


def test_a_future_date_is_refused(w):
    with pytest.raises(ValidationError) as refused:
        record(w, file_case(w), started_at=timezone.now() + DAY)
    assert "started_at" in refused.value.message_dict


def test_a_closed_case_takes_no_new_referral(w):
    case = file_case(w)
    case_services.case_withdraw(case=case, actor=w.gridworker, reason="当事人已和解")
    with pytest.raises(StateConflict):
        record(w, case)
    assert not Referral.objects.filter(case=case).exists()


def test_the_limit_is_extended_once_with_the_parties_consent(w):
    referral = entrusted(w)
    first_due = referral.due_at

    with pytest.raises(ValidationError) as refused:
        services.referral_extend(referral=referral, actor=w.mediator, reason="需鉴定",
                                 parties_consent=False)  # fmt: skip
    assert "parties_consent" in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.referral_extend(referral=referral, actor=w.mediator, reason=" ",
                                 parties_consent=True)  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.referral_extend(referral=referral, actor=w.judge, reason="需鉴定",
                                 parties_consent=True)  # fmt: skip

    extended = services.referral_extend(
        referral=referral, actor=w.mediator, reason="需伤情鉴定，双方同意延长", parties_consent=True
    )
    assert extended.due_at == first_due + 30 * DAY
    assert timers.pending(LIMIT_DUE, referral.pk) == extended.due_at
    assert extended.case.events.filter(kind=K.LINKAGE_EXTENDED).count() == 1
    with pytest.raises(StateConflict):
        services.referral_extend(referral=referral, actor=w.mediator, reason="再延",
                                 parties_consent=True)  # fmt: skip


def test_only_a_court_entrusted_pending_referral_is_extended(w):
    plain = record(w, file_case(w))
    with pytest.raises(StateConflict):
        services.referral_extend(referral=plain, actor=w.mediator, reason="x",
                                 parties_consent=True)  # fmt: skip
    done = entrusted(w)
    services.referral_result(referral=done, actor=w.mediator, result="agreement")
    with pytest.raises(StateConflict):
        services.referral_extend(referral=done, actor=w.mediator, reason="x",
                                 parties_consent=True)  # fmt: skip


def test_a_limit_already_missed_is_not_extended(w, time_machine):
    referral = entrusted(w)
    time_machine.move_to(referral.due_at + HOUR)
    with pytest.raises(StateConflict):
        services.referral_extend(referral=referral, actor=w.mediator, reason="x",
                                 parties_consent=True)  # fmt: skip


# --- the court-entrusted limit through the timers ----------------------------------------------


def missed(referral):
    return referral.case.events.filter(kind=K.LINKAGE_OVERDUE)


def test_the_limit_is_missed_once_through_overlapping_sweeps_stamped_at_the_limit(w):
    referral = entrusted(w)
    due = referral.due_at

    timers.sweep(now=due - HOUR)  # the warning only
    assert not missed(referral).exists()
    for now in (due + HOUR, due + HOUR, due + 2 * HOUR):
        timers.sweep(now=now)

    [event] = missed(referral)
    assert event.at == due and event.actor is None
    assert referral.case.events.filter(kind=K.LINKAGE_DUE_SOON).count() == 1
    referral.refresh_from_db()
    assert referral.overdue_at == due
    assert {"mediator", "secretary"} & told("sla_linkage_overdue")
    assert Notification.objects.filter(kind="sla_linkage_overdue").count() == len(
        told("sla_linkage_overdue")
    )


def test_a_three_day_outage_records_the_warning_and_the_miss_once_at_their_times(w):
    referral = entrusted(w)
    due = referral.due_at

    timers.sweep(now=due + 3 * DAY)
    timers.sweep(now=due + 3 * DAY + HOUR)

    [warning] = referral.case.events.filter(kind=K.LINKAGE_DUE_SOON)
    [event] = missed(referral)
    assert (warning.at, event.at) == (due - 5 * DAY, due)


def test_a_result_in_time_records_no_miss_and_counts_as_on_time(w):
    referral = entrusted(w)
    done = services.referral_result(referral=referral, actor=w.mediator, result="agreement")
    timers.sweep(now=referral.due_at + 3 * DAY)
    assert not missed(referral).exists()
    assert done.finished_on_time is True


def test_an_extended_limit_is_missed_at_its_new_time_only(w):
    referral = entrusted(w)
    first_due = referral.due_at
    extended = services.referral_extend(
        referral=referral, actor=w.mediator, reason="双方同意", parties_consent=True
    )
    timers.sweep(now=first_due + DAY)
    assert not missed(referral).exists()
    timers.sweep(now=extended.due_at + DAY)
    timers.sweep(now=extended.due_at + 2 * DAY)
    [event] = missed(referral)
    assert event.at == extended.due_at


# --- API: forbidden, bad input, wrong state, scope -------------------------------------------


def test_the_api_records_and_answers_403_404_400_409(w):
    case = file_case(w)
    body = {"case": case.pk, "direction": "out", "kind": "legal_aid", "partner": "区法律援助中心"}

    assert (
        client_for(w.gridworker2).post("/api/v1/referrals/", body, format="json").status_code == 404
    )
    assert client_for(w.judge).post("/api/v1/referrals/", body, format="json").status_code == 403
    bad = client_for(w.mediator).post("/api/v1/referrals/", body | {"partner": ""}, format="json")
    assert bad.status_code == 400 and "partner" in bad.json()["errors"]
    assert not Referral.objects.filter(case=case).exists()

    created = client_for(w.mediator).post("/api/v1/referrals/", body, format="json")
    assert created.status_code == 201
    pk = created.json()["id"]
    result = {"result": "failed", "note": "援助中心未受理"}
    assert (
        client_for(w.gridworker2).post(f"/api/v1/referrals/{pk}/result/", result).status_code == 404
    )
    assert client_for(w.judge).post(f"/api/v1/referrals/{pk}/result/", result).status_code == 403
    assert (
        client_for(w.mediator).post(f"/api/v1/referrals/{pk}/result/", {"result": "?"}).status_code
        == 400
    )
    assert client_for(w.mediator).post(f"/api/v1/referrals/{pk}/result/", result).status_code == 200
    again = client_for(w.mediator).post(f"/api/v1/referrals/{pk}/result/", result)
    assert again.status_code == 409
    extend = {"reason": "x", "parties_consent": True}
    assert client_for(w.mediator).post(f"/api/v1/referrals/{pk}/extend/", extend).status_code == 409
    assert client_for(w.gridworker2).get(f"/api/v1/referrals/{pk}/").status_code == 404
    assert client_for(w.judge).get(f"/api/v1/referrals/{pk}/").status_code == 200


def test_the_api_list_shows_only_referrals_within_reach(w):
    mine = record(w, file_case(w))
    other_case = file_case(w, actor=w.gridworker2, area=w.other_grid)
    theirs = services.referral_record(case=other_case, actor=w.admin, direction="out",
                                      kind="police", partner="七星岗派出所")  # fmt: skip

    listed = {r["id"] for r in client_for(w.gridworker).get("/api/v1/referrals/").json()["results"]}
    assert mine.pk in listed and theirs.pk not in listed
    listed = {
        r["id"] for r in client_for(w.admin).get("/api/v1/referrals/?kind=police").json()["results"]
    }
    assert listed == {theirs.pk}


def test_pages_hide_what_is_out_of_reach_and_refuse_what_is_not_theirs(w, client):
    case = file_case(w)
    referral = record(w, case)
    pages = [
        ("get", f"/referrals/case/{case.pk}/new/"),
        ("post", f"/referrals/case/{case.pk}/new/"),
        ("get", f"/referrals/{referral.pk}/"),
        ("post", f"/referrals/{referral.pk}/result/"),
        ("post", f"/referrals/{referral.pk}/extend/"),
    ]
    client.force_login(w.gridworker2)
    assert [getattr(client, m)(p).status_code for m, p in pages] == [404] * 5
    client.force_login(w.judge)
    assert [getattr(client, m)(p).status_code for m, p in pages] == [403, 403, 200, 403, 403]
    client.force_login(w.gridworker2)
    assert f"/referrals/{referral.pk}/" not in client.get("/referrals/").content.decode()

"""Mediation sessions: scheduled with the parties summoned by SMS through the outbox and the
staff told; held and recorded on the spot; who may (403 in scope, 404 outside), bad input,
a closed case (409), a stale record (409); the pages' query budgets."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from common.errors import StateConflict
from disputes.ledger import TransitionError
from disputes.models import CaseEvent
from mediation import services
from mediation.models import Attendance, MediationSession
from notifications.models import Notification, OutboxMessage
from tests.disputes.test_api import seeded, w  # noqa: F401
from tests.mediation.world import assigned_case, case_in

pytestmark = pytest.mark.django_db


def schedule(w, case, **extra):  # noqa: F811
    kwargs = {
        "case": case,
        "actor": w.mediator,
        "starts_at": timezone.now() + timedelta(days=1),
        "place": "民生路社区调解室",
        "mediators": [w.mediator],
        "invited": [w.lawyer],
    }
    return services.session_schedule(**(kwargs | extra))


def mediation_events(case):
    return list(case.events.filter(kind=CaseEvent.Kind.MEDIATION).order_by("pk"))


def test_it_schedules_a_session_summons_the_parties_and_tells_the_invited(w):  # noqa: F811
    case = assigned_case(w)
    sms_before = OutboxMessage.objects.filter(channel="sms", notification=None).count()

    session = schedule(w, case)

    assert session.number == 1
    sms = OutboxMessage.objects.filter(channel="sms", notification=None).order_by("pk")
    texts = [m.text for m in sms[sms_before:]]
    assert len(texts) == 2 and any("李秀英" in t and "民生路社区调解室" in t for t in texts)
    rows = list(Attendance.objects.filter(session=session))
    assert {r.name for r in rows} == {
        "李秀英",
        "王强",
        w.mediator.display_name,
        w.lawyer.display_name,
    }
    assert all(r.summoned_at for r in rows if r.party_id)
    assert Notification.objects.filter(recipient=w.lawyer, kind="case_mediation_session").exists()
    [event] = mediation_events(case)
    assert event.data["step"] == "session_scheduled" and event.actor == w.mediator
    assert schedule(w, case).number == 2


def test_it_records_a_session_with_who_came(w):  # noqa: F811
    case = assigned_case(w)
    session = schedule(w, case)
    came = {a.pk for a in session.attendance.all() if a.party_id}

    services.session_record(
        session=session, actor=w.mediator, record_text="双方陈述……", present=came, version=1
    )

    session.refresh_from_db()
    assert session.status == "held" and session.record == "双方陈述……" and session.version == 2
    assert {a.pk for a in session.attendance.filter(present=True)} == came
    assert mediation_events(case)[-1].data["step"] == "session_recorded"


def test_a_stale_record_form_is_refused_and_the_newer_record_kept(w):  # noqa: F811
    session = schedule(w, assigned_case(w))
    services.session_record(
        session=session, actor=w.mediator, record_text="第一稿", present=set(), version=1
    )
    with pytest.raises(StateConflict):
        services.session_record(
            session=session, actor=w.secretary, record_text="旧页面", present=set(), version=1
        )
    session.refresh_from_db()
    assert session.record == "第一稿"


def test_the_judge_may_not_and_bad_input_and_a_closed_case_save_nothing(w):  # noqa: F811
    case = assigned_case(w)
    with pytest.raises(PermissionDenied):
        schedule(w, case, actor=w.judge)
    with pytest.raises(ValidationError) as error:
        schedule(w, case, place="  ")
    assert "place" in error.value.message_dict
    with pytest.raises(ValidationError):
        schedule(w, case, mediators=[])
    with pytest.raises(TransitionError):
        schedule(w, case_in(w, "closed"))
    assert not MediationSession.objects.filter(case=case).exists()
    assert mediation_events(case) == []


def test_the_pages_answer_404_outside_the_scope_and_403_to_the_judge(client, w):  # noqa: F811
    case = assigned_case(w)
    session = schedule(w, case)
    urls = [
        reverse("mediation:overview", args=[case.pk]),
        reverse("mediation:session_new", args=[case.pk]),
        reverse("mediation:session", args=[case.pk, session.pk]),
        reverse("mediation:agreement_edit", args=[case.pk]),
    ]
    client.force_login(w.gridworker2)
    assert [client.get(u).status_code for u in urls] == [404, 404, 404, 404]
    client.force_login(w.judge)
    assert [client.get(u).status_code for u in urls] == [200, 403, 200, 403]
    response = client.post(urls[2], {"record": "x", "version": 1})
    assert response.status_code == 403
    session.refresh_from_db()
    assert session.record == ""


def test_the_mediator_schedules_and_records_through_the_pages(
    client,
    w,  # noqa: F811
    django_assert_max_num_queries,
):
    case = assigned_case(w)
    client.force_login(w.mediator)
    with django_assert_max_num_queries(30):
        assert client.get(reverse("mediation:session_new", args=[case.pk])).status_code == 200
    starts = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    bad = client.post(
        reverse("mediation:session_new", args=[case.pk]),
        {"starts_at": starts, "mediators": [w.mediator.pk]},
    )
    assert bad.status_code == 400 and not MediationSession.objects.filter(case=case).exists()
    with django_assert_max_num_queries(45):
        response = client.post(
            reverse("mediation:session_new", args=[case.pk]),
            {
                "starts_at": starts,
                "place": "调解室",
                "mediators": [w.mediator.pk],
                "invited": [w.lawyer.pk],
            },
        )
    session = MediationSession.objects.get(case=case)
    assert response.status_code == 302
    url = reverse("mediation:session", args=[case.pk, session.pk])
    with django_assert_max_num_queries(30):
        assert client.get(url).status_code == 200
    party_rows = [str(a.pk) for a in session.attendance.all() if a.party_id]
    with django_assert_max_num_queries(40):
        response = client.post(
            url, {"record": "调解员：请双方陈述。", "present": party_rows, "version": 1}
        )
    assert response.status_code == 302
    stale = client.post(url, {"record": "旧的", "present": [], "version": 1})
    assert stale.status_code == 409
    with django_assert_max_num_queries(30):
        page = client.get(reverse("mediation:overview", args=[case.pk]))
    assert "调解员：请双方陈述。" not in page.content.decode() and "调解室" in page.content.decode()
    with django_assert_max_num_queries(60):
        detail = client.get(reverse("disputes:detail", args=[case.pk]))
    assert 'id="mediation-section"' in detail.content.decode()


def test_a_session_called_off_tells_the_summoned_parties_once(client, w):  # noqa: F811
    case = assigned_case(w)
    session = schedule(w, case)
    url = reverse("mediation:session_cancel", args=[case.pk, session.pk])
    sms = OutboxMessage.objects.filter(channel="sms", notification=None)
    before = sms.count()
    client.force_login(w.judge)
    assert client.post(url, {"reason": "当事人出差"}).status_code == 403
    client.force_login(w.gridworker2)
    assert client.post(url, {"reason": "当事人出差"}).status_code == 404
    client.force_login(w.mediator)
    assert client.post(url, {"reason": " "}).status_code == 400
    assert MediationSession.objects.get(pk=session.pk).status == "scheduled"

    assert client.post(url, {"reason": "当事人出差"}).status_code == 302

    assert MediationSession.objects.get(pk=session.pk).status == "cancelled"
    assert sms.count() == before + 2 and "取消" in sms.last().text
    assert mediation_events(case)[-1].data["step"] == "session_cancelled"
    assert client.post(url, {"reason": "再次"}).status_code == 409
    record = reverse("mediation:session", args=[case.pk, session.pk])
    assert client.post(record, {"record": "x", "version": 2}).status_code == 409

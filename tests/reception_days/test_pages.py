"""The pages and the sessions API: who sees what, recording visits in place with htmx,
bad input, forbidden actors, and a fixed number of queries however long the lists are."""

from datetime import timedelta

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from disputes.models import Case, Channel
from reception_days import services
from reception_days.models import (
    MediationUnit,
    ReceptionSession,
    RotaSlot,
    SessionStatus,
    Visit,
    VisitOutcome,
)
from tests.reception_days.conftest import TODAY

HTMX = {"HTTP_HX_REQUEST": "true"}


def detail_url(session):
    return reverse("reception_days:detail", args=[session.pk])


def visit_data(world, **extra):
    return {
        "resident_name": "刘阿婆",
        "resident_phone": "13800001111",
        "people": "1",
        "issue": "儿子不付赡养费",
        "common_services": [world.services["consultation"].pk],
        "outcome": VisitOutcome.ANSWERED,
    } | extra


# --- lists -----------------------------------------------------------------------------


def test_it_lists_my_upcoming_and_recent_sessions(client, world):
    mine = world.session(day=TODAY, theme="今天")
    later = world.session(day=TODAY + timedelta(days=7), theme="下周")
    past = world.session(day=TODAY - timedelta(days=7), theme="上周")
    not_mine = world.session(world.c3, theme="别的社区")
    client.force_login(world.lawyer)

    response = client.get(reverse("reception_days:mine"))

    assert [s.pk for s in response.context["upcoming"]] == [mine.pk, later.pk]
    assert [s.pk for s in response.context["recent"]] == [past.pk]
    html = response.content.decode()
    assert "今天" in html and not_mine.theme not in html
    assert "我的接待日" in html  # the navigation entry, in Chinese


def test_it_lists_my_sessions_in_a_fixed_number_of_queries(
    client, world, django_assert_max_num_queries
):
    client.force_login(world.lawyer)
    world.session()
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("reception_days:mine"))
    for offset in range(1, 15):
        session = world.session(day=TODAY + timedelta(days=offset), theme=f"第{offset}场")
        world.visit(world.session(day=TODAY - timedelta(days=offset), theme=f"旧{offset}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("reception_days:mine"))
    assert session.theme in response.content.decode()


def test_it_lists_sessions_in_scope_in_a_fixed_number_of_queries(
    client, world, django_assert_max_num_queries
):
    for offset in range(12):
        world.visit(world.session(day=TODAY - timedelta(days=offset), theme=f"场次{offset}"))
    world.session(world.c3, theme="第二街道的")
    client.force_login(world.street)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("reception_days:list"))
    assert response.context["page"].paginator.count == 12
    assert "第二街道的" not in response.content.decode()
    client.force_login(world.district_staff)
    response = client.get(reverse("reception_days:list"), {"community": world.c3.pk})
    assert [s.community for s in response.context["page"]] == [world.c3]


# --- one session ---------------------------------------------------------------------------


def test_it_shows_a_session_page_in_a_fixed_number_of_queries(
    client, world, django_assert_max_num_queries
):
    session = world.session()
    world.visit(session)
    client.force_login(world.lawyer)
    with django_assert_max_num_queries(20) as few:
        client.get(detail_url(session))
    for n in range(8):
        visit = world.visit(session, resident_name=f"居民{n}",
                            services=[world.services["mediation"]])  # fmt: skip
    services.visit_convert(visit=visit, actor=world.lawyer, category=world.category)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(detail_url(session))
    assert response.status_code == 200
    assert len(response.context["visits"]) == 9


def test_it_hides_a_session_from_an_officer_of_another_community(client, world):
    session = world.session()
    visit = world.visit(session)
    client.force_login(world.other_lawyer)
    before = (Visit.objects.count(), Case.objects.count())

    assert client.get(detail_url(session)).status_code == 404
    base = f"/reception-days/{session.pk}"
    for url, data in [
        (f"{base}/visits/", visit_data(world)),
        (f"{base}/visits/{visit.pk}/convert/", {}),
        (f"{base}/visits/{visit.pk}/reply/", {f"reply-{visit.pk}-reply": "x"}),
        (f"{base}/hold/", {"attended": [session.staff.first().pk]}),
        (f"{base}/cancel/", {"reason": "x"}),
        (f"{base}/staff/", {"name": "x", "duty": "y"}),
    ]:
        assert client.post(url, data, **HTMX).status_code == 404, url
    assert (Visit.objects.count(), Case.objects.count()) == before
    assert ReceptionSession.objects.get(pk=session.pk).status == SessionStatus.PLANNED


def test_it_forbids_recording_to_a_viewer_who_is_not_on_the_session(client, world):
    session = world.session(with_team=False)
    visit = world.visit(session, actor=world.secretary)
    client.force_login(world.judge)  # sees the community's sessions; not on this one
    response = client.get(detail_url(session))
    assert response.status_code == 200
    assert 'id="visit-form"' not in response.content.decode()
    assert (
        client.post(f"{detail_url(session)}visits/", visit_data(world), **HTMX).status_code == 403
    )
    convert = f"{detail_url(session)}visits/{visit.pk}/convert/"
    assert client.post(convert, {}, **HTMX).status_code == 403
    assert Visit.objects.count() == 1


def test_it_adds_a_visit_in_place_with_htmx(client, world):
    session = world.session()
    client.force_login(world.lawyer)

    response = client.post(f"{detail_url(session)}visits/", visit_data(world), **HTMX)

    assert response.status_code == 200
    visit = Visit.objects.get()
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="visit-form"')  # a fresh form to swap in
    assert 'hx-swap-oob="afterbegin:#visit-list"' in html
    assert f'id="visit-{visit.pk}"' in html and "刘阿婆" in html
    assert 'value="刘阿婆"' not in html  # the form is empty again
    assert (visit.recorded_by, visit.resident_phone) == (world.lawyer, "13800001111")
    assert [s.code for s in visit.services.all()] == ["consultation"]


def test_it_keeps_the_input_and_explains_bad_visits(client, world):
    session = world.session()
    client.force_login(world.lawyer)
    bad = visit_data(world, resident_name="", outcome=VisitOutcome.REFERRED, issue="噪音")

    response = client.post(f"{detail_url(session)}visits/", bad, **HTMX)

    assert response.status_code == 200  # htmx swaps only 2xx; the form carries the errors
    html = response.content.decode()
    assert 'data-error-for="resident_name"' in html
    assert 'data-error-for="department"' in html
    assert "噪音" in html
    assert not Visit.objects.exists()
    # Without JavaScript the page comes back with the errors and a 400.
    response = client.post(f"{detail_url(session)}visits/", bad)
    assert response.status_code == 400
    assert not Visit.objects.exists()


def test_it_refuses_visits_at_a_session_to_come(client, world):
    session = world.session(day=TODAY + timedelta(days=2))
    client.force_login(world.lawyer)
    assert 'id="visit-form"' not in client.get(detail_url(session)).content.decode()
    response = client.post(f"{detail_url(session)}visits/", visit_data(world), **HTMX)
    assert 'data-testid="visit-error"' in response.content.decode()
    assert not Visit.objects.exists()


def test_it_converts_a_visit_in_place(client, world):
    session = world.session()
    visit = world.visit(session)
    client.force_login(world.lawyer)
    prefix = f"convert-{visit.pk}"
    data = {f"{prefix}-category": world.category.pk, f"{prefix}-grid": world.tree.grids[1].pk,
            f"{prefix}-cause": "厨房漏水", f"{prefix}-address": "1栋301"}  # fmt: skip

    response = client.post(f"{detail_url(session)}visits/{visit.pk}/convert/", data, **HTMX)

    assert response.status_code == 200
    case = Case.objects.get()
    assert (case.channel, case.area, case.filed_by) == (
        Channel.RECEPTION_DAY, world.tree.grids[1], world.lawyer,
    )  # fmt: skip
    html = response.content.decode()
    assert html.lstrip().startswith(f'<article class="card mb-2" id="visit-{visit.pk}"')
    assert case.number in html and 'data-action="convert"' not in html
    # Sent twice (a double tap): an error in the row, still one case.
    response = client.post(f"{detail_url(session)}visits/{visit.pk}/convert/", data, **HTMX)
    assert 'data-testid="visit-error"' in response.content.decode()
    assert Case.objects.count() == 1


def test_it_explains_a_bad_conversion_and_files_nothing(client, world):
    session = world.session()
    visit = world.visit(session)
    client.force_login(world.lawyer)
    prefix = f"convert-{visit.pk}"
    data = {f"{prefix}-category": "", f"{prefix}-grid": world.tree.grids[2].pk,
            f"{prefix}-cause": "", f"{prefix}-address": "x"}  # fmt: skip
    response = client.post(f"{detail_url(session)}visits/{visit.pk}/convert/", data, **HTMX)
    html = response.content.decode()
    assert 'data-error-for="category"' in html and 'data-error-for="grid"' in html
    assert '<details class="mt-1" data-action="convert" open>' in html
    assert not Case.objects.exists()


def test_it_records_the_reply_in_place(client, world):
    session = world.session()
    visit = world.visit(session)
    client.force_login(world.police)
    url = f"{detail_url(session)}visits/{visit.pk}/reply/"
    response = client.post(url, {f"reply-{visit.pk}-reply": "已电话告知处理结果"}, **HTMX)
    assert 'data-testid="visit-reply"' in response.content.decode()
    assert Visit.objects.get().reply == "已电话告知处理结果"
    response = client.post(url, {f"reply-{visit.pk}-reply": ""}, **HTMX)
    assert 'data-error-for="reply"' in response.content.decode()
    assert Visit.objects.get().reply == "已电话告知处理结果"


def test_it_marks_a_session_held_from_the_page(client, world):
    session = world.session()
    client.force_login(world.lawyer)
    mine = session.staff.get(user=world.lawyer)
    page = client.get(detail_url(session))
    assert page.context["hold_form"]["attended"].initial == [mine.pk]  # pre-ticks the viewer

    response = client.post(f"{detail_url(session)}hold/", {"attended": [mine.pk]})
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.HELD
    response = client.post(f"{detail_url(session)}hold/", {})
    assert response.status_code == 400
    assert session.staff.filter(attended=True).count() == 1


def test_it_cancels_from_the_page_with_a_reason(client, world):
    session = world.session()
    client.force_login(world.secretary)
    assert client.post(f"{detail_url(session)}cancel/", {"reason": ""}).status_code == 400
    assert client.post(f"{detail_url(session)}cancel/", {"reason": "停电"}).status_code == 302
    assert ReceptionSession.objects.get().cancel_reason == "停电"


def test_it_adds_extra_staff_from_the_page(client, world):
    session = world.session()
    client.force_login(world.lawyer)
    response = client.post(f"{detail_url(session)}staff/", {"name": "孙信访", "duty": "信访干部"})
    assert response.status_code == 302
    assert session.staff.filter(name="孙信访", duty="信访干部", user=None).exists()
    assert client.post(f"{detail_url(session)}staff/", {"name": "x"}).status_code == 400


# --- creating sessions ----------------------------------------------------------------------


def test_it_lets_community_staff_create_a_thematic_session(client, world):
    client.force_login(world.secretary)
    data = {"community": world.c1.pk, "kind": "thematic", "theme": "法治进校园",
            "venue": "第一小学", "date": "2026-12-03", "starts_at": "14:00",
            "ends_at": "16:00", "with_team": "on"}  # fmt: skip
    response = client.post(reverse("reception_days:create"), data)
    session = ReceptionSession.objects.get()
    assert response.status_code == 302 and response.url == detail_url(session)
    assert (session.theme, session.staff.count(), session.created_by) == (
        "法治进校园", 4, world.secretary,
    )  # fmt: skip
    # Not in another street, and no theme: errors, nothing saved.
    bad = data | {"community": world.c3.pk, "theme": ""}
    assert client.post(reverse("reception_days:create"), bad).status_code == 200
    assert ReceptionSession.objects.count() == 1
    client.force_login(world.lawyer)
    assert client.get(reverse("reception_days:create")).status_code == 403


# --- the public notice ----------------------------------------------------------------------


def test_it_posts_the_next_sessions_publicly_without_phone_numbers(client, world):
    world.session(day=TODAY + timedelta(days=3), theme="下周普法")
    world.session(day=TODAY - timedelta(days=3), theme="已过去")
    world.lawyer.phone = "13712345678"
    world.lawyer.save()
    response = client.get(reverse("reception_days:public", args=[world.c1.code]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "下周普法" in html and "已过去" not in html
    assert "马律师" in html and "13712345678" not in html
    assert "data:image/svg+xml" in html  # the QR code to print
    assert client.get(reverse("reception_days:public", args=["nope"])).status_code == 404
    assert client.get(reverse("reception_days:public", args=[world.s1.code])).status_code == 404


def test_it_renders_the_public_page_in_a_fixed_number_of_queries(
    client, world, django_assert_max_num_queries
):
    unit = MediationUnit.objects.create(community=world.c1, name="农贸市场")
    for weekday, officer in enumerate([world.lawyer, world.police, world.judge]):
        RotaSlot.objects.create(unit=unit, weekday=weekday, user=officer)
    services.schedule_duty_sessions(weeks=2)
    for n in range(6):
        world.session(day=TODAY + timedelta(days=n), theme=f"第{n}场")
    with django_assert_max_num_queries(6):
        response = client.get(reverse("reception_days:public", args=[world.c1.code]))
    # The daily duty is listed apart, for this week only, so it never hides the sessions.
    assert [s.theme for s in response.context["sessions"]] == [f"第{n}场" for n in range(6)]
    assert [s.date for s in response.context["duty"]] == [TODAY + timedelta(days=n)
                                                          for n in (0, 5, 6)]  # fmt: skip


# --- the sessions API -----------------------------------------------------------------------


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_it_lists_sessions_in_scope_through_the_api(world, django_assert_max_num_queries):
    for n in range(5):
        world.visit(world.session(day=TODAY - timedelta(days=n), theme=f"第{n}场"))
    world.session(world.c3, theme="第二街道")
    with django_assert_max_num_queries(5):
        response = api(world.lawyer).get("/api/v1/reception-days/sessions/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 5
    first = body["results"][0]
    assert (first["community"]["id"], first["visit_count"], first["kind"]) == (
        world.c1.pk, 1, "thematic",
    )  # fmt: skip
    other = api(world.other_lawyer).get("/api/v1/reception-days/sessions/").json()
    assert [s["theme"] for s in other["results"]] == ["第二街道"]


def test_it_refuses_bad_session_filters_in_the_api(world):
    response = api(world.lawyer).get(
        "/api/v1/reception-days/sessions/",
        {"status": "nope", "date_from": "x", "community": world.c3.pk},
    )
    assert response.status_code == 400
    assert {"status", "date_from", "community"} <= set(response.json()["errors"])


@pytest.mark.parametrize("url", ["/reception-days/mine/", "/reception-days/report-card/"])
def test_it_asks_strangers_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response.url

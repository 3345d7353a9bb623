"""Staff side of resident reports: notes shown to the resident (an htmx form on the case
page), reopen requests decided by the handler's supervisor, QR posters. Three people per
scenario: the responsible handler, the supervisor above them and an outsider."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from disputes import services as case_services
from disputes.models import CaseEvent, CaseStatus
from notifications.models import Notification
from residents import qr, services
from residents.models import PublicUpdate, ReopenRequest
from tests.residents.conftest import T0, report, staff_case

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def case(world):
    """A resident's report in grid 1, mediated by the community mediator (赵调解)."""
    case = report(world).case
    return case_services.case_assign(
        case=case, mediator=world.u("mediator"), actor=world.u("secretary")
    )


def note_url(case):
    return reverse("residents:public_note", args=[case.pk])


def detail(case):
    return reverse("disputes:detail", args=[case.pk])


# --- public notes -----------------------------------------------------------------------------


def test_the_case_page_has_the_resident_section_only_for_qr_cases(client, world, case):
    client.force_login(world.u("mediator"))
    body = client.get(detail(case)).content.decode()
    assert 'id="resident-panel"' in body and note_url(case) in body
    assert case.resident_report.display_code in body
    other = staff_case(world, world.grid)
    assert 'id="resident-panel"' not in client.get(detail(other)).content.decode()


def test_the_resident_section_costs_a_few_queries(client, world, case):
    client.force_login(world.u("mediator"))
    other = staff_case(world, world.grid)
    case_services.case_assign(case=other, mediator=world.u("mediator"), actor=world.u("secretary"))
    for n in range(3):
        services.public_note_add(case=case, actor=world.u("mediator"), note=f"进展{n}")
    client.get(detail(other))  # warm up per-process caches
    with CaptureQueriesContext(connection) as plain:
        client.get(detail(other))
    with CaptureQueriesContext(connection) as with_panel:
        client.get(detail(case))
    assert len(with_panel) - len(plain) <= 6


def test_the_handler_posts_a_public_note_with_htmx_and_the_panel_is_refreshed(client, world, case):
    client.force_login(world.u("mediator"))
    response = client.post(note_url(case), {"note": "已约双方周五在社区调解室协商。"}, **HTMX)
    # htmx follows the redirect to the case page and swaps in its #case-panel.
    assert response.status_code == 302 and response["Location"] == detail(case)
    update = PublicUpdate.objects.get()
    assert (
        update.text == "已约双方周五在社区调解室协商。"
        and update.published_by.username == "mediator"
    )
    assert update.event.kind == CaseEvent.Kind.PROGRESS and update.event.note == update.text
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_MEDIATION and case.first_progress_at is not None
    page = client.get(response["Location"]).content.decode()
    assert f'data-public-update="{update.pk}"' in page


def test_an_empty_note_is_refused_in_place(client, world, case):
    client.force_login(world.u("mediator"))
    response = client.post(note_url(case), {"note": "  "}, **HTMX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#resident-panel"
    assert 'id="resident-panel"' in response.content.decode()
    assert not PublicUpdate.objects.exists()


def test_without_htmx_the_page_is_reloaded_with_a_message(client, world, case):
    client.force_login(world.u("mediator"))
    response = client.post(note_url(case), {"note": "进展"}, follow=True)
    assert response.redirect_chain[-1][0] == detail(case)
    assert PublicUpdate.objects.count() == 1


def test_an_earlier_note_can_be_shown_and_withdrawn(client, world, case):
    mediator = world.u("mediator")
    case_services.case_progress(case=case, actor=mediator, note="已电话联系申请人")
    event = case.events.get(kind=CaseEvent.Kind.PROGRESS)
    client.force_login(mediator)
    url = reverse("residents:public_publish", args=[case.pk, event.pk])
    assert client.post(url, **HTMX).status_code == 302
    update = PublicUpdate.objects.get()
    assert update.text == "已电话联系申请人"
    again = client.post(url, **HTMX)  # already shown: said in place, nothing added
    assert "该说明已向群众公开" in again.content.decode() and PublicUpdate.objects.count() == 1
    withdraw = reverse("residents:public_withdraw", args=[case.pk, update.pk])
    assert client.post(withdraw, **HTMX).status_code == 302
    update.refresh_from_db()
    assert update.withdrawn_at is not None and update.withdrawn_by == mediator
    # A withdrawn note can be shown again (a new row; the old one stays as evidence).
    assert client.post(url, **HTMX).status_code == 302
    assert PublicUpdate.objects.count() == 2


def test_an_assignment_note_cannot_be_shown(world, case):
    event = case.events.get(kind=CaseEvent.Kind.ASSIGNED)
    with pytest.raises(services.ValidationError):
        services.public_update_publish(event=event, actor=world.u("mediator"), text="x")


@pytest.mark.parametrize(
    ("username", "status"),
    [("gridworker2", 404), ("microhead", 404), ("lawyer", 200), ("judge", 200)],
)
def test_people_who_do_not_handle_the_case_cannot_publish(client, world, case, username, status):
    client.force_login(world.u(username))
    response = client.post(note_url(case), {"note": "冒充的进展"}, **HTMX)
    assert response.status_code == status
    if status == 200:  # they see the case but may not act: said in the panel
        assert 'data-testid="panel-error"' in response.content.decode()
    assert not PublicUpdate.objects.exists()
    assert not case.events.filter(kind=CaseEvent.Kind.PROGRESS).exists()


def test_anonymous_users_are_sent_to_log_in(client, case):
    response = client.post(note_url(case), {"note": "x"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_notes_are_refused_on_cases_not_reported_by_residents(world):
    other = staff_case(world, world.grid)
    other = case_services.case_assign(
        case=other, mediator=world.u("mediator"), actor=world.u("secretary")
    )
    with pytest.raises(services.PermissionDenied):
        services.public_note_add(case=other, actor=world.u("mediator"), note="x")


# --- reopen requests --------------------------------------------------------------------------


@pytest.fixture
def unsatisfied(world, case):
    mediator = world.u("mediator")
    world.at(T0 + timedelta(days=2))
    case_services.case_progress(case=case, actor=mediator, note="已协调")
    case_services.case_resolve(case=case, actor=mediator, outcome="agreement")
    case_services.case_close(case=case, actor=world.u("secretary"))  # the check passed
    services.rating_submit(
        report=case.resident_report, satisfaction="unsatisfied", comment="还是很吵"
    )
    return ReopenRequest.objects.get()


def decide(client, request, **data):
    url = reverse("residents:reopen_decide", args=[request.pk])
    return client.post(url, data, **HTMX)


def test_the_supervisor_sees_the_request_and_approves_it(client, world, unsatisfied):
    secretary = world.u("secretary")
    assert Notification.objects.filter(recipient=secretary, kind="reopen_request").exists()
    client.force_login(secretary)
    listing = client.get(reverse("residents:reopen_requests"))
    assert listing.context["rows"][0]["can_decide"] is True
    assert "还是很吵" in listing.content.decode()
    page = client.get(detail(unsatisfied.case)).content.decode()
    assert 'data-testid="reopen-request"' in page and 'data-testid="approve-reopen"' in page

    assert decide(client, unsatisfied, decision="approve").status_code == 302
    unsatisfied.refresh_from_db()
    assert unsatisfied.status == "approved" and unsatisfied.decided_by == secretary
    case = unsatisfied.case
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_MEDIATION and case.reopened_at is not None
    reopened = case.events.get(kind=CaseEvent.Kind.REOPENED)
    assert reopened.actor == secretary and "还是很吵" in reopened.note
    assert Notification.objects.filter(recipient=world.u("mediator"), kind="case_reopened").exists()


def test_refusing_needs_a_reason_and_keeps_the_case_closed(client, world, unsatisfied):
    client.force_login(world.u("secretary"))
    response = decide(client, unsatisfied, decision="refuse", note="")
    assert "请说明维持办结的理由" in response.content.decode()
    reason = "已核实，噪音来自施工许可时段"
    assert decide(client, unsatisfied, decision="refuse", note=reason).status_code == 302
    unsatisfied.refresh_from_db()
    assert unsatisfied.status == "refused"
    assert unsatisfied.case.status == CaseStatus.CLOSED
    again = decide(client, unsatisfied, decision="approve")
    assert "该申请已处理" in again.content.decode()


@pytest.mark.parametrize(
    ("username", "status"),
    [("mediator", 200), ("lawyer", 200), ("gridworker2", 404)],
)
def test_the_handler_and_outsiders_cannot_decide(client, world, unsatisfied, username, status):
    client.force_login(world.u(username))
    response = decide(client, unsatisfied, decision="approve")
    assert response.status_code == status
    if status == 200:
        assert 'data-testid="panel-error"' in response.content.decode()
    unsatisfied.refresh_from_db()
    assert unsatisfied.status == "pending"


@pytest.mark.parametrize("decision", ["", "maybe"])
def test_a_bad_decision_is_refused(client, world, unsatisfied, decision):
    client.force_login(world.u("secretary"))
    decide(client, unsatisfied, decision=decision)
    unsatisfied.refresh_from_db()
    assert unsatisfied.status == "pending"


def test_the_request_list_has_a_fixed_number_of_queries(
    client, world, unsatisfied, django_assert_max_num_queries
):
    for n in range(4):
        filed = report(world, world.micro, phone=f"1370000000{n}")
        world.at(T0 + timedelta(days=3, hours=n))
        admin = world.u("admin")
        c = case_services.case_assign(case=filed.case, mediator=world.u("mediator"), actor=admin)
        c = case_services.case_progress(case=c, actor=admin, note="x")
        c = case_services.case_resolve(case=c, actor=world.u("mediator"), outcome="agreement")
        case_services.case_close(case=c, actor=admin)
        services.rating_submit(report=filed, satisfaction="unsatisfied", comment=f"不满意{n}")
    client.force_login(world.u("secretary"))
    with django_assert_max_num_queries(7):  # 6, and the banner of instructions to acknowledge
        response = client.get(reverse("residents:reopen_requests"))
    assert len(response.context["rows"]) == 5


def test_the_outsider_sees_no_requests(client, world, unsatisfied):
    client.force_login(world.u("gridworker2"))
    assert client.get(reverse("residents:reopen_requests")).context["rows"] == []


# --- posters and QR codes ---------------------------------------------------------------------


def test_qr_codes_are_public_png_and_svg_of_the_report_link(client, world):
    png = client.get(reverse("resident_public:qr", args=[world.grid.code, "png"]))
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    expected = f"http://testserver/r/{world.grid.code}/"
    assert png.content == qr.png(expected)
    assert "max-age=86400" in png["Cache-Control"]
    svg = client.get(reverse("resident_public:qr", args=[world.grid.code, "svg"]))
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    assert client.get(f"/r/{world.street.code}/qr.png").status_code == 404
    assert client.get(f"/r/{world.grid.code}/qr.gif").status_code == 404


def test_qr_codes_point_at_the_public_address_when_configured(client, world, settings):
    settings.RESIDENT_PUBLIC_BASE_URL = "https://tiaojie.example.gov.cn/"
    png = client.get(reverse("resident_public:qr", args=[world.grid.code, "png"]))
    assert png.content == qr.png(f"https://tiaojie.example.gov.cn/r/{world.grid.code}/")


def test_the_poster_is_staff_only_and_shows_the_area_in_chinese(client, world):
    url = reverse("residents:poster", args=[world.grid.code])
    assert client.get(url).status_code == 302  # log in first
    client.force_login(world.u("gridworker"))
    response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert "民生路社区第1网格" in body and "渝中区 / 解放碑街道 / 民生路社区" in body
    assert "<svg" in body and f"/r/{world.grid.code}/" in body


@pytest.mark.parametrize(
    ("username", "code", "status"),
    [("gridworker", "500103001001G01M02", 200), ("gridworker", "500103001001", 404),
     ("gridworker2", "500103001001G01", 404), ("secretary", "500103001001", 200),
     ("street", "500103001", 404)],
)  # fmt: skip
def test_posters_exist_for_areas_in_scope_that_take_reports(client, world, username, code, status):
    client.force_login(world.u(username))
    assert client.get(reverse("residents:poster", args=[code])).status_code == status


def test_the_poster_list_is_scoped_searchable_and_cheap(
    client, world, django_assert_max_num_queries
):
    client.force_login(world.u("secretary"))
    with django_assert_max_num_queries(8):
        response = client.get(reverse("residents:posters"))
    codes = [row["area"].code for row in response.context["rows"]]
    assert codes[0] == "500103001001" and all(c.startswith("500103001001") for c in codes)
    assert len(codes) == 1 + 1 + 3 + 6  # community, dedicated grid, grids, micro-grids
    found = client.get(reverse("residents:posters"), {"q": "第2网格"}).context["rows"]
    assert {row["area"].code for row in found} == {
        "500103001001G02", "500103001001G02M01", "500103001001G02M02"
    }  # fmt: skip


# --- the reopen-request API ---------------------------------------------------------------------


def api_decide(client, request, body):
    url = f"/api/v1/residents/reopen-requests/{request.pk}/decide/"
    return client.post(url, body, content_type="application/json")


def test_the_api_lists_and_decides_reopen_requests(
    client, world, unsatisfied, django_assert_max_num_queries
):
    client.force_login(world.u("secretary"))
    with django_assert_max_num_queries(6):
        listing = client.get("/api/v1/residents/reopen-requests/", {"status": "pending"})
    row = listing.json()["results"][0]
    assert (row["id"], row["satisfaction"], row["reason"]) == (
        unsatisfied.pk, "unsatisfied", "还是很吵"
    )  # fmt: skip
    bad = api_decide(client, unsatisfied, {"approve": False})
    assert bad.status_code == 400 and "note" in bad.json()["errors"]
    assert api_decide(client, unsatisfied, {}).status_code == 400
    ok = api_decide(client, unsatisfied, {"approve": True, "note": "请重新协调"})
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    again = api_decide(client, unsatisfied, {"approve": True})
    assert again.status_code == 409


@pytest.mark.parametrize(("username", "status"), [("mediator", 403), ("gridworker2", 404)])
def test_the_api_refuses_the_handler_and_outsiders(client, world, unsatisfied, username, status):
    client.force_login(world.u(username))
    assert api_decide(client, unsatisfied, {"approve": True}).status_code == status
    unsatisfied.refresh_from_db()
    assert unsatisfied.status == "pending"


def test_the_admin_lists_every_residents_model(client, world, unsatisfied):
    client.force_login(world.u("admin"))
    for model in ("residentreport", "publicupdate", "rating", "reopenrequest",
                  "callbackpolicy", "callbackdraw", "callbacktask"):  # fmt: skip
        assert client.get(f"/admin/residents/{model}/").status_code == 200
    report_pk = unsatisfied.case.resident_report.pk
    assert client.get(f"/admin/residents/residentreport/{report_pk}/change/").status_code == 200

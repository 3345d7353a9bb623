"""Following a case filed by staff: the tracking code the applicant got by SMS opens the
public tracking page by itself (no key), any case, with or without the dash. The page shows
the stages in plain Chinese and the handling unit; never the cause, a note, a party or
anyone's phone. The applicant can turn the SMS off there ("不再接收短信")."""

from datetime import timedelta

import pytest
from django.urls import reverse

from disputes import services as case_services
from disputes.models import Category
from disputes.models_filing import CaseTracking
from notifications.models import OutboxMessage
from tests.residents.conftest import T0, handle_to_close, report

pytestmark = pytest.mark.django_db

TRACK = "/r/track/"
APPLICANT_MOBILE = "13600001111"


@pytest.fixture
def filed(world):
    """A dispute the grid worker filed, the applicant's mobile given."""
    return case_services.case_file(
        actor=world.u("gridworker"), area=world.grid, category=Category.objects.get(code="0201"),
        cause="张三家楼道堆物与李四争执", address="民生路12号3单元", channel="grid_worker",
        parties=[
            {"side": "applicant", "name": "李四", "phone": APPLICANT_MOBILE},
            {"side": "respondent", "name": "张三", "phone": "13500002222",
             "address": "民生路12号3单元601"},
        ],
    )  # fmt: skip


def page_of(client, code):
    return client.get(reverse("resident_public:case", args=[code]))


def party_sms():
    return list(OutboxMessage.objects.filter(notification__isnull=True).order_by("id"))


def test_the_sms_code_opens_the_tracking_page_with_the_status_in_chinese(client, filed, world):
    (sms,) = party_sms()
    code = filed.tracking.code
    url = sms.text.split("：")[-1].split()[0]  # the address in the SMS
    assert url == f"/r/track/{code}/"
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert [s.key for s in response.context["stages"] if s.current] == ["submitted"]
    assert "已提交" in html and filed.number in html and filed.tracking.display_code in html
    assert world.grid.name in html or filed.handling_area.name in html
    # Nothing of the parties, the cause or any phone.
    for private in ("张三", "李四", "13500002222", APPLICANT_MOBILE, "601", "堆物与"):
        assert private not in html
    assert world.u("gridworker").phone not in html


def test_the_page_follows_the_case_and_never_shows_the_mediators_phone(client, filed, world):
    case = handle_to_close(world, filed, closed_at=T0 + timedelta(days=2))
    html = page_of(client, filed.tracking.code).content.decode()
    assert [s.key for s in page_of(client, filed.tracking.code).context["stages"] if s.current] == [
        "closed"
    ]
    assert "已办结" in html
    assert case.mediator.phone not in html and case.mediator.display_name not in html


def test_the_lookup_form_takes_the_code_alone_in_any_case(client, filed):
    code = filed.tracking.display_code.lower()  # "abcde-fghjk", as typed on a phone
    response = client.post(TRACK, {"code": code, "secret": ""})
    assert response.status_code == 302
    assert response["Location"] == reverse("resident_public:case", args=[filed.tracking.code])
    assert page_of(client, filed.tracking.code.lower()).status_code == 200


def test_a_wrong_code_opens_nothing_and_counts_against_the_network(client, filed, settings):
    settings.RESIDENT_RATE_LIMITS = {"track_ip": (3, 900)}
    for attempt in range(3):
        response = client.post(TRACK, {"code": f"ABCDE-FGHJ{attempt + 2}", "secret": ""})
        assert response.status_code == 200 and "track-error" in response.content.decode()
    # The network has used up its tries: even the right code waits now.
    assert client.post(TRACK, {"code": filed.tracking.code, "secret": ""}).status_code == 429
    response = page_of(client, filed.tracking.code)
    assert response.status_code == 302 and response["Location"].startswith(TRACK)


def test_a_wrong_code_in_the_address_counts_too(client, filed, settings):
    settings.RESIDENT_RATE_LIMITS = {"track_ip": (2, 900)}
    for attempt in range(2):
        response = page_of(client, f"ABCDE-FGHJ{attempt + 2}")
        assert response.status_code == 302 and response["Location"].startswith(TRACK)
    response = page_of(client, filed.tracking.code)
    assert response.status_code == 302  # locked out for a while


def test_a_residents_report_code_still_needs_its_key(client, world):
    own = report(world)
    response = client.post(TRACK, {"code": own.tracking_code, "secret": ""})
    assert response.status_code == 200 and response.context["form"].errors["secret"]
    assert page_of(client, own.tracking_code).status_code == 302  # not by the code alone


def test_the_applicant_turns_the_sms_off(client, filed, world):
    html = page_of(client, filed.tracking.code).content.decode()
    assert "不再接收短信" in html
    url = reverse("resident_public:sms_off", args=[filed.tracking.code])
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    html = response.content.decode()
    assert "您将不再收到此案件的短信" in html and "您已退订短信" in html
    assert "不再接收短信" not in html
    assert CaseTracking.objects.get(case=filed).sms_stopped_at == T0
    handle_to_close(world, filed, closed_at=T0 + timedelta(days=1))
    assert len(party_sms()) == 1  # only the filing's, sent before
    # Staff see it on the case page.
    client.force_login(world.u("secretary"))
    detail = client.get(reverse("disputes:detail", args=[filed.pk])).content.decode()
    assert "申请人已于" in detail and "退订短信" in detail


def test_turning_the_sms_off_needs_a_real_code(client, filed):
    url = reverse("resident_public:sms_off", args=["ABCDEFGHJ2"])
    response = client.post(url)
    assert response.status_code == 302 and response["Location"].startswith(TRACK)
    assert CaseTracking.objects.get(case=filed).sms_stopped_at is None


def test_no_sms_button_when_none_are_sent(client, world):
    case = case_services.case_file(
        actor=world.u("gridworker"), area=world.grid, category=Category.objects.get(code="0201"),
        cause="楼道堆物", address="民生路12号", channel="grid_worker", notify_applicant=False,
        parties=[{"side": "applicant", "name": "李四", "phone": APPLICANT_MOBILE}],
    )  # fmt: skip
    html = page_of(client, case.tracking.code).content.decode()
    assert "不再接收短信" not in html and "此案件不发送短信" in html


def test_the_code_page_has_a_fixed_number_of_queries(
    client, world, filed, django_assert_max_num_queries
):
    admin = world.u("admin")
    case = case_services.case_assign(case=filed, mediator=world.u("mediator"), actor=admin)
    for n in range(3):
        case = case_services.case_progress(case=case, actor=admin, note=f"内部进展{n}")
    url = reverse("resident_public:case", args=[filed.tracking.code])
    client.get(url)
    with django_assert_max_num_queries(4):  # session, report by code, tracking with its case
        response = client.get(url)
    assert response.status_code == 200 and "内部进展" not in response.content.decode()

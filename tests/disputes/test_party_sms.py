"""Parties are told: the applicant of a case filed by staff gets an SMS with a tracking code
when it is filed, then when it is accepted, assigned and closed (through the outbox: quiet
hours, at most once). Never without a mobile number, never once the filer unticked it or
the applicant turned it off; never a handler's phone or the other parties' details.

Scenario as tests/disputes/test_services.py: the grid worker files in grid 1, the community
secretary accepts and assigns to the mediator, who mediates and closes."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from disputes import services
from disputes.models import Case, Channel, Outcome
from disputes.models_filing import CaseTracking
from disputes.services import tracking as tracking_service
from disputes.services.tracking import CODE_ALPHABET, mobile
from notifications.backends import MemorySmsBackend
from notifications.delivery import outbox_deliver_due
from notifications.models import OutboxMessage, SmsTemplate
from tests.disputes.test_services import World, file_case, parties
from tests.factories import SuperuserFactory

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=SH)
APPLICANT_MOBILE = "13800001111"  # written "138 0000 1111" on the filing


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(T0, tick=False)


@pytest.fixture(autouse=True)
def _sms(settings):
    settings.SMS_BACKEND = "notifications.backends.MemorySmsBackend"
    settings.NOTIFY_QUIET_HOURS = (22, 7)
    settings.RESIDENT_PUBLIC_BASE_URL = "https://tiaojie.example.cn"
    MemorySmsBackend.outbox.clear()
    yield
    MemorySmsBackend.outbox.clear()


@pytest.fixture
def world():
    w = World()
    w.mediator.phone = "13700009999"
    w.mediator.save(update_fields=["phone"])
    return w


def party_sms() -> list[OutboxMessage]:
    """The SMS to parties (outbox rows of no user's notification), oldest first."""
    rows = OutboxMessage.objects.filter(notification__isnull=True)
    return list(rows.order_by("id"))


def to_closed(w: World, case: Case) -> Case:
    case = services.case_accept(case=case, actor=w.secretary)
    case = services.case_assign(case=case, mediator=w.mediator, actor=w.secretary)
    case = services.case_progress(case=case, actor=w.mediator, note="已上门查看")
    case = services.case_resolve(case=case, actor=w.mediator, outcome=Outcome.AGREEMENT)
    return services.case_close(case=case, actor=w.secretary)


# --- the code -------------------------------------------------------------------------------------


def test_it_gives_a_case_filed_by_staff_a_short_unguessable_code(world):
    codes = {file_case(world).tracking.code for _ in range(5)}
    assert len(codes) == 5
    for code in codes:
        assert len(code) == 10 and set(code) <= set(CODE_ALPHABET)
    stored = CaseTracking.objects.get(code=next(iter(codes)))
    assert stored.phone == APPLICANT_MOBILE and stored.sms and stored.texts


def test_it_draws_another_code_when_one_is_taken(world, monkeypatch):
    taken = file_case(world).tracking.code
    draws = iter([taken, "ABCDEFGHJK"])
    monkeypatch.setattr(tracking_service, "_new_code", lambda: next(draws))
    case = file_case(world)
    assert CaseTracking.objects.get(case=case).code == "ABCDEFGHJK"
    assert CaseTracking.objects.filter(code=taken).count() == 1


@pytest.mark.parametrize(
    ("written", "digits"),
    [
        ("138 0000 1111", "13800001111"),
        ("+86 138-0000-1111", "13800001111"),
        ("8613800001111", "13800001111"),
        ("023-63881234", ""),
        ("4008123123", ""),
        ("", ""),
    ],
)
def test_it_texts_mobile_numbers_only(written, digits):
    assert mobile(written) == digits


# --- what is sent ------------------------------------------------------------------------------


def test_it_texts_the_applicant_the_number_and_a_working_tracking_code_on_filing(world):
    case = file_case(world)
    (sms,) = party_sms()
    code = case.tracking.code
    assert sms.channel == "sms" and sms.address == APPLICANT_MOBILE and sms.status == "pending"
    assert case.number in sms.text
    assert f"{code[:5]}-{code[5:]}" in sms.text
    assert f"https://tiaojie.example.cn/r/track/{code}/" in sms.text
    assert "已登记，等待受理" in sms.text and "退订" in sms.text
    # Nothing about the other party, the filer or the handlers.
    for private in ("某物业公司", world.worker.phone, world.mediator.phone, "李秀英"):
        assert private not in sms.text
    assert outbox_deliver_due() >= 1
    assert [m["phone"] for m in MemorySmsBackend.outbox if m["text"] == sms.text] == [
        APPLICANT_MOBILE
    ]


def test_it_texts_each_step_once_and_nothing_else(world):
    case = to_closed(world, file_case(world))
    texts = [sms.text for sms in party_sms()]
    assert len(texts) == 4
    assert [s for t in texts for s in ("已登记", "已受理", "已安排调解员", "已办结") if s in t] == [
        "已登记",
        "已受理",
        "已安排调解员",
        "已办结",
    ]
    assert all(case.number in t for t in texts)
    for text in texts:
        assert world.mediator.phone not in text and "某物业公司" not in text
    outbox_deliver_due()
    outbox_deliver_due()  # a second run sends nothing again
    sent = [m for m in MemorySmsBackend.outbox if m["phone"] == APPLICANT_MOBILE]
    assert [m["text"] for m in sent] == texts


def test_it_says_so_when_the_case_was_resolved_on_the_spot(world):
    file_case(world, area=world.tree.grids[0], category=world.grid_category,
              resolved_on_spot=True, outcome_note="双方当场和解")  # fmt: skip
    (sms,) = party_sms()
    assert "已登记并当场化解" in sms.text


def test_it_waits_for_the_morning_in_the_quiet_hours(world, time_machine):
    time_machine.move_to(datetime(2026, 3, 2, 23, 30, tzinfo=SH), tick=False)
    file_case(world)
    (sms,) = party_sms()
    assert sms.not_before == datetime(2026, 3, 3, 7, 0, tzinfo=SH)
    assert outbox_deliver_due() == 0 and MemorySmsBackend.outbox == []


# --- when nothing is sent ---------------------------------------------------------------------


def test_it_sends_nothing_without_an_applicant_mobile(world):
    only_landline = [
        {"side": "applicant", "name": "李秀英", "phone": "023-63881234"},
        {"side": "respondent", "name": "张三", "phone": "13911112222"},  # not the applicant
    ]
    case = to_closed(world, file_case(world, parties=only_landline))
    assert case.tracking.code and case.tracking.phone == ""
    assert party_sms() == []


def test_it_sends_nothing_when_the_filer_unticks_it(world):
    case = to_closed(world, file_case(world, notify_applicant=False))
    assert CaseTracking.objects.get(case=case).sms is False
    assert party_sms() == []


def test_it_sends_nothing_more_once_the_applicant_turned_it_off(world):
    case = file_case(world)
    assert services.tracking_sms_stop(tracking=case.tracking) is True
    assert services.tracking_sms_stop(tracking=case.tracking) is False  # once
    to_closed(world, case)
    assert len(party_sms()) == 1  # the filing's, before they turned it off
    assert CaseTracking.objects.get(case=case).sms_stopped_at == T0


def test_it_gives_a_residents_own_report_no_case_code_and_no_sms(world):
    case = services.case_file(
        actor=None, public=True, area=world.tree.grids[0], category=world.category,
        cause="噪音", address="民生路12号", channel=Channel.RESIDENT_QR,
        parties=[{"side": "applicant", "name": "王阿姨", "phone": "13912345678"}],
    )  # fmt: skip
    services.case_accept(case=case, actor=world.secretary)
    assert not CaseTracking.objects.filter(case=case).exists()
    assert party_sms() == []


# --- the wording from the admin ----------------------------------------------------------------


def test_it_uses_the_wording_edited_in_the_admin(world, client):
    SmsTemplate.objects.get_or_create(event="accepted", defaults={"text": "旧的 {code}"})
    template = SmsTemplate.objects.get(event="accepted")
    client.force_login(SuperuserFactory())
    url = reverse("admin:notifications_smstemplate_change", args=[template.pk])
    response = client.post(url, {"text": "【民生路社区】{number}{status}，请凭{code}查询：{url}"})
    assert response.status_code == 302, response.content.decode()
    case = services.case_accept(case=file_case(world), actor=world.secretary)
    accepted = party_sms()[-1].text
    code = case.tracking.code
    assert accepted == (
        f"【民生路社区】{case.number}已受理，正在安排调解员，请凭{code[:5]}-{code[5:]}查询："
        f"https://tiaojie.example.cn/r/track/{code}/"
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [("您好 {name}，{code}", "未知的占位符"), ("案件{number}已受理", "请包含 {code} 或 {url}")],
)
def test_it_refuses_a_template_with_unknown_placeholders_or_no_code(client, text, error):
    template, _ = SmsTemplate.objects.get_or_create(event="closed", defaults={"text": "{code}"})
    before = template.text
    client.force_login(SuperuserFactory())
    url = reverse("admin:notifications_smstemplate_change", args=[template.pk])
    response = client.post(url, {"text": text})
    assert response.status_code == 200 and error in response.content.decode()
    template.refresh_from_db()
    assert template.text == before


def test_it_falls_back_to_the_built_in_wording_without_a_template(world):
    SmsTemplate.objects.all().delete()
    case = file_case(world)
    (sms,) = party_sms()
    assert sms.text.startswith(f"您反映的纠纷（编号{case.number}）已登记，等待受理。")


def test_it_seeds_a_chinese_template_for_every_step():
    # Seeded by notifications/migrations/0002 (browser tests flush the tables they use, so
    # this looks at the template the migration wrote only where it is still there).
    seeded = dict(SmsTemplate.objects.values_list("event", "text"))
    if not seeded:
        pytest.skip("a browser test flushed the migration's rows in this session")
    assert set(seeded) == set(SmsTemplate.Event.values)
    assert all("{code}" in text and "{url}" in text and "纠纷" in text for text in seeded.values())


# --- filing from the page and the API ---------------------------------------------------------


def test_it_ticks_the_sms_box_on_the_filing_page_and_honours_unticking(world, client):
    client.force_login(world.worker)
    html = client.get(reverse("disputes:file")).content.decode()
    assert 'name="notify_applicant"' in html and "短信告知申请人" in html
    assert 'id="id_notify_applicant" checked' in html  # ticked by default
    form = {
        "area": world.tree.grids[0].pk, "category": world.category.pk, "cause": "楼上漏水",
        "address": "民生路12号", "channel": "grid_worker", "people_involved": 2,
        "parties-TOTAL_FORMS": 1, "parties-INITIAL_FORMS": 0,
        "parties-0-side": "applicant", "parties-0-kind": "person", "parties-0-name": "李秀英",
        "parties-0-phone": "13800001111",
    }  # fmt: skip
    # Unticked, a checkbox is not sent at all.
    assert client.post(reverse("disputes:file"), form).status_code == 302
    assert party_sms() == []
    ticked = form | {"notify_applicant": "on"}
    assert client.post(reverse("disputes:file"), ticked).status_code == 302
    (sms,) = party_sms()
    assert sms.address == "13800001111"


def test_it_files_through_the_api_with_or_without_the_sms(world):
    api = APIClient()
    api.force_authenticate(world.worker)
    body = {
        "area": world.tree.grids[0].pk, "category": world.category.pk, "cause": "楼上漏水",
        "address": "民生路12号", "parties": parties(),
    }  # fmt: skip
    assert api.post("/api/v1/cases/", body, format="json").status_code == 201
    assert len(party_sms()) == 1
    quiet = body | {"notify_applicant": False}
    assert api.post("/api/v1/cases/", quiet, format="json").status_code == 201
    assert len(party_sms()) == 1
    bad = body | {"notify_applicant": "perhaps"}
    response = api.post("/api/v1/cases/", bad, format="json")
    assert response.status_code == 400 and "notify_applicant" in response.json()["errors"]
    assert Case.objects.count() == 2


def test_it_shows_the_code_and_the_sms_state_on_the_case_page(world, client):
    case = file_case(world)
    client.force_login(world.secretary)
    html = client.get(reverse("disputes:detail", args=[case.pk])).content.decode()
    assert case.tracking.display_code in html
    assert "每个环节以短信告知申请人（138****1111）" in html
    services.tracking_sms_stop(tracking=case.tracking)
    html = client.get(reverse("disputes:detail", args=[case.pk])).content.decode()
    assert "申请人已于 2026-03-02 09:00 退订短信" in html


# --- what filing costs -------------------------------------------------------------------------

# Queries of this scenario's filing before parties were told (measured on both databases):
# the tracking row and the SMS are paid for by the case number's single upsert.
FILING_QUERIES_BEFORE = {"sqlite": 30, "postgresql": 28}


def _filing_queries(w: World, **overrides) -> int:
    with CaptureQueriesContext(connection) as ctx:
        file_case(w, **overrides)
    return len(ctx.captured_queries)


def test_it_files_with_no_more_queries_than_before(world):
    file_case(world)  # the year's number row exists, as on any day but New Year's
    before = FILING_QUERIES_BEFORE[connection.vendor]
    with_sms = _filing_queries(world)
    without_mobile = _filing_queries(world, parties=[{"side": "applicant", "name": "李秀英"}])
    assert with_sms <= before + 1
    assert without_mobile == with_sms - 1  # the SMS row is one INSERT … SELECT

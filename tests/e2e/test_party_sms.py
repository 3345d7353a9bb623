"""The applicant is told by SMS, on a 360-px phone: the grid worker files a dispute with the
applicant's mobile number; the SMS (read from the outbox) carries a tracking code; the
resident types that code into the public tracking page and sees the status in Chinese."""

import re

from django.urls import reverse
from playwright.sync_api import expect

from disputes.models import Case
from notifications.models import OutboxMessage
from tests.e2e.helpers import assert_no_horizontal_scroll, screenshot

APPLICANT_MOBILE = "13912345678"


def test_the_applicant_gets_a_code_by_sms_that_opens_the_tracking_page(
    phone, login, server_url, settings
):
    settings.NOTIFY_QUIET_HOURS = (0, 0)  # whatever the hour the test runs at
    page = login(phone.new_page(), "gridworker")
    page.goto(server_url + reverse("disputes:file"))
    expect(page.get_by_label("短信告知申请人")).to_be_checked()  # ticked by default
    page.locator("#id_category").select_option(label="拖欠工资")
    page.locator("#id_cause").fill("某工地拖欠农民工工资")
    page.locator("#id_address").fill("民生路88号在建工地")
    page.locator("#id_parties-0-name").fill("李大山")
    page.locator("#id_parties-0-phone").fill("139 1234 5678")
    page.locator("#id_parties-1-name").fill("王老板")
    page.locator("#id_parties-1-phone").fill("13700001234")
    assert_no_horizontal_scroll(page)
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    case = Case.objects.get()
    expect(page.get_by_test_id("tracking-code")).to_have_text(case.tracking.display_code)

    (sms,) = OutboxMessage.objects.filter(notification__isnull=True)
    assert sms.address == APPLICANT_MOBILE and case.number in sms.text
    code = re.search(r"查询码([0-9A-Z]{5}-[0-9A-Z]{5})", sms.text).group(1)

    resident = phone.new_page()  # the applicant's own phone, signed in nowhere
    resident.goto(server_url + reverse("resident_public:track"))
    resident.get_by_label("查询码").fill(code.lower())
    resident.locator("#track-form button[type=submit]").click()
    resident.wait_for_url(re.compile(r"/r/track/[0-9A-Z]{10}/$"))
    expect(resident.locator("h1")).to_contain_text(case.number)
    expect(resident.locator("[data-current=true]")).to_contain_text("已提交")
    expect(resident.get_by_role("button", name="不再接收短信")).to_be_visible()
    body = resident.locator("body").inner_text()
    for private in ("王老板", "13700001234", "李大山", APPLICANT_MOBILE, "拖欠农民工"):
        assert private not in body
    assert_no_horizontal_scroll(resident)
    screenshot(resident, "party-sms-tracking")

    resident.get_by_role("button", name="不再接收短信").click()
    expect(resident.get_by_test_id("sms-stopped")).to_be_visible()
    case.tracking.refresh_from_db()
    assert case.tracking.sms_stopped_at is not None


def test_the_notification_settings_page_fits_a_phone(phone, login, server_url):
    page = login(phone.new_page(), "gridworker")
    page.goto(server_url + reverse("inbox:list"))
    page.get_by_test_id("settings-link").click()
    expect(page.get_by_role("heading", name="通知设置")).to_be_visible()
    assert_no_horizontal_scroll(page)
    page.get_by_label("短信").nth(2).uncheck()  # deadline warnings and breaches
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("通知设置已保存。")).to_be_visible()
    expect(page.locator("[data-group=deadlines] input[name=deadlines_sms]")).not_to_be_checked()
    expect(page.locator("[data-group=new_work] input[name=new_work_sms]")).to_be_checked()
    screenshot(page, "notification-settings")

"""A resident's report through a browser, on a 360-px phone with no login: scan the grid's
QR code, report with a photo, follow the case while staff handle it, rate it "unsatisfied";
the handler's supervisor sees the reopen request and reopens the case."""

import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from disputes import services as case_services
from disputes.models import CaseStatus, Outcome
from grids.models import Area, User
from residents import qr, selectors
from residents.models import PublicUpdate, ReopenRequest, ResidentReport
from tests.e2e.helpers import assert_no_horizontal_scroll, screenshot

pytestmark = pytest.mark.e2e

GRID = "500103001001G01"
INTERNAL = "内部：被申请人李四性格急躁，电话13600001111"
PUBLIC = "已联系楼上住户，约定本周五晚七点在社区调解室协商。"


def zh(label) -> str:
    with translation.override("zh-hans"):
        return str(label)


@pytest.fixture(autouse=True)
def _private_cache(settings):
    """The live server runs in this process: a cache of its own keeps other runs' rate-limit
    counters (same 127.0.0.1) out of this test."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "e2e-residents",
        }
    }


def test_a_resident_reports_follows_and_rates_and_the_supervisor_reopens(
    phone, desktop, login, server_url, png_file
):
    # The poster's QR code encodes the grid's report link; the resident's camera opens it.
    grid = Area.objects.get(code=GRID)
    link = f"{server_url}/r/{GRID}/"
    assert qr.make(link).designator  # a full QR code, not Micro QR
    resident = phone.new_page()
    resident.goto(link)
    expect(resident.get_by_role("heading", level=1)).to_be_visible()
    expect(resident.locator("[data-testid=area]")).to_contain_text(grid.name)
    expect(resident.locator("input[name=website]")).not_to_be_in_viewport()  # the honeypot
    resident.locator("label[for=id_topic_0]").click()  # neighbours
    resident.locator("#id_text").fill("楼上住户每晚十一点后拖拽家具，噪音严重影响休息")
    resident.locator("#id_address").fill("民生路12号3单元502")
    resident.locator("#id_photos").set_input_files(png_file)
    resident.locator("#id_name").fill("王阿姨")
    resident.locator("#id_phone").fill("139 1234 5678")
    assert_no_horizontal_scroll(resident)
    screenshot(resident, "resident-report-360")
    resident.get_by_role("button", name="提交", exact=True).click()

    code = resident.locator("[data-testid=tracking-code]")
    expect(code).to_have_text(re.compile(r"^[0-9A-Z]{5}-[0-9A-Z]{5}$"))
    filed = ResidentReport.objects.select_related("case").get()
    assert code.inner_text() == filed.display_code
    # The secret that opens the report from any other phone: shown once, stored hashed.
    key = resident.locator("[data-testid=tracking-key]")
    expect(key).to_have_text(re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$"))
    assert selectors.report_for_tracking(filed.tracking_code, key.inner_text()) == filed
    case = filed.case
    assert case.channel == "resident_qr" and case.filed_by is None
    assert case.attachments.get().original_name == "现场照片.png"
    assert_no_horizontal_scroll(resident)
    screenshot(resident, "resident-code-360")

    resident.locator("[data-testid=tracking-link]").click()
    current = resident.locator("[data-testid=stages] li[data-current]")
    expect(current).to_have_attribute("data-stage", "submitted")
    expect(current).to_contain_text("已提交")
    assert_no_horizontal_scroll(resident)

    # Staff take it up: the grid worker assigns it to himself and notes something internal.
    worker = User.objects.get(username="gridworker")
    case = case_services.case_assign(case=case, mediator=worker, actor=worker)
    resident.reload()
    expect(resident.locator("[data-testid=stages] li[data-current]")).to_contain_text("已分派")
    case = case_services.case_progress(case=case, actor=worker, note=INTERNAL)

    # On the case page he shows one note to the resident (htmx, the panel swaps in place).
    staff = login(desktop.new_page(), "gridworker")
    staff.goto(f"{server_url}/cases/{case.pk}/")
    staff.evaluate("window.__samePage = true")
    note_form = staff.locator("[data-testid=public-note-form]")
    note_form.locator("textarea").fill(PUBLIC)
    note_form.locator("button[type=submit]").click()
    expect(staff.locator("[data-testid=public-notes]")).to_contain_text(PUBLIC)
    expect(staff.locator("#timeline li[data-event=progress]")).to_have_count(2)
    assert staff.evaluate("window.__samePage") is True, "the page was reloaded"
    assert PublicUpdate.objects.get().text == PUBLIC
    screenshot(staff, "resident-panel-desktop")

    resident.reload()
    stages = resident.locator("[data-testid=stages]")
    expect(stages.locator("li[data-stage=dispatched]")).to_contain_text("已分派")
    expect(stages.locator("li[data-stage=dispatched] time")).to_be_visible()
    expect(resident.locator("[data-testid=public-updates]")).to_contain_text(PUBLIC)
    page_text = resident.locator("body").inner_text()
    assert "内部" not in page_text and "李四" not in page_text and "13600001111" not in page_text
    assert_no_horizontal_scroll(resident)
    screenshot(resident, "resident-tracking-360")

    # Resolved and closed; the resident is not satisfied.
    case = case_services.case_resolve(case=case, actor=worker, outcome=Outcome.AGREEMENT)
    case = case_services.case_close(case=case, actor=User.objects.get(username="secretary"))
    resident.reload()
    expect(resident.locator("[data-testid=stages] li[data-current]")).to_contain_text("已办结")
    resident.locator("label[data-choice=unsatisfied]").click()
    resident.locator("#id_comment").fill("协商后第二天又开始了，问题没有解决")
    assert_no_horizontal_scroll(resident)
    resident.locator("#rating-form button[type=submit]").click()
    expect(resident.locator("[data-testid=rated] [data-satisfaction=unsatisfied]")).to_be_visible()
    screenshot(resident, "resident-rated-360")
    request = ReopenRequest.objects.get()
    assert request.status == "pending"

    # The handler's supervisor (the community secretary) sees it and reopens the case.
    supervisor = login(desktop.new_page(), "secretary")
    supervisor.goto(f"{server_url}/residents/reopen-requests/")
    listed = supervisor.locator(f"[data-reopen='{request.pk}']")
    expect(listed).to_contain_text("协商后第二天又开始了")
    listed.get_by_role("link", name=case.cause).click()
    panel = supervisor.locator("[data-testid=reopen-request]")
    expect(panel).to_contain_text("协商后第二天又开始了")
    panel.locator("[data-testid=approve-reopen]").click()
    expect(supervisor.locator("[data-testid=status]")).to_have_text(
        zh(CaseStatus.IN_MEDIATION.label)
    )
    expect(supervisor.locator("#timeline li[data-event=reopened]")).to_contain_text("王书记")
    request.refresh_from_db()
    case.refresh_from_db()
    assert request.status == "approved" and case.status == CaseStatus.IN_MEDIATION

    resident.reload()
    expect(resident.locator("[data-testid=stages] li[data-current]")).to_contain_text("调解中")


def test_a_grid_worker_prints_the_poster_of_his_grid(phone, login, server_url):
    page = login(phone.new_page(), "gridworker")
    page.goto(f"{server_url}/residents/posters/")
    page.locator(f"[data-area='{GRID}'] a", has_text="").first.click()
    poster = page.locator("[data-testid=poster]")
    expect(poster.locator("[data-testid=poster-area]")).to_have_text("民生路社区第1网格")
    expect(poster.locator("svg.qr-code")).to_be_visible()
    expect(poster).to_contain_text(f"/r/{GRID}/")
    assert_no_horizontal_scroll(page)
    screenshot(page, "resident-poster-360")


def test_a_wrong_code_tells_nothing_on_a_phone(phone, server_url):
    page = phone.new_page()
    page.goto(f"{server_url}/r/track/")
    page.locator("#id_code").fill("ABCDE-FGHJK")
    page.locator("#id_secret").fill("1234")
    page.locator("#track-form button[type=submit]").click()
    expect(page.locator("[data-testid=track-error]")).to_be_visible()
    expect(page.locator("#id_secret")).to_have_value("")
    assert_no_horizontal_scroll(page)

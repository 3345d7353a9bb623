"""The street centre's workbench in a browser: triage the queue without a page reload, drill
down from the street to a community, download the CSV export, and the big screen.

Selectors use ids and data attributes rather than the new labels, whose Chinese
translations the lead adds at the end."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from disputes.models import Case, CaseStatus
from tests.e2e.helpers import assert_no_horizontal_scroll, screenshot

pytestmark = pytest.mark.e2e
BOM = b"\xef\xbb\xbf"


@pytest.fixture
def waiting(seeded):
    """Three disputes waiting for assignment in 解放碑街道, filed one after the other, so the
    first one filed has the nearest assignment deadline and tops the queue."""
    from disputes import services
    from disputes.models import Category
    from grids.models import Area, User

    worker = User.objects.get(username="gridworker")
    causes = ["某工地拖欠12名农民工工资", "楼上卫生间漏水至楼下", "加装电梯费用分摊争议"]
    codes = ["1001", "0203", "1401"]
    cases = []
    for cause, code in zip(causes, codes, strict=True):
        cases.append(
            services.case_file(
                actor=worker,
                area=Area.objects.get(code="500103001001G01M01"),
                category=Category.objects.get(code=code),
                cause=cause,
                address="民生路88号",
                channel="grid_worker",
                people_involved=12 if code == "1001" else 2,
                parties=[{"side": "applicant", "name": "李大山"}],
            )
        )
    return cases


def open_dashboard(page, server_url):
    page.locator('a[href="/dashboard/"]').first.click()
    page.wait_for_url(re.compile(r"/dashboard/"))
    expect(page.locator("#triage-queue")).to_be_visible()


def test_it_lets_the_street_centre_assign_the_most_urgent_case_without_a_reload(
    desktop, login, server_url, waiting
):
    from grids.models import User

    page = login(desktop.new_page(), "street")
    open_dashboard(page, server_url)
    rows = page.locator("#triage-queue > li")
    expect(rows).to_have_count(3)
    top = rows.first
    expect(top).to_have_attribute("data-case", waiting[0].number)
    expect(top).to_contain_text("某工地拖欠12名农民工工资")
    expect(page.locator("[data-figure=unassigned]")).to_have_text("3")
    expect(page.locator("[data-figure=green]")).to_have_text("3")
    # ECharts drew the charts (Chinese locale, vendored).
    expect(page.locator("[data-chart=chart-category] canvas")).to_have_count(1)
    page.evaluate("window.notReloaded = true")

    top.locator("summary").click()
    picker = top.locator("select[name=assign-mediator]")
    expect(picker).to_be_visible()  # loaded by htmx when the row opened
    mediator = User.objects.get(username="mediator")
    picker.select_option(str(mediator.pk))
    screenshot(page, "dashboard-assign")
    top.locator("form[data-action=assign] button[type=submit]").click()

    done = page.locator(f"#queue-{waiting[0].pk}")
    expect(done).to_have_attribute("data-state", "done")
    expect(done).to_contain_text(mediator.display_name)
    expect(page.locator("[data-figure=unassigned]")).to_have_text("2")
    assert page.evaluate("window.notReloaded") is True
    case = Case.objects.get(pk=waiting[0].pk)
    assert case.status == CaseStatus.ASSIGNED and case.mediator == mediator


def test_it_drills_down_from_the_street_to_a_community(desktop, login, server_url, waiting):
    page = login(desktop.new_page(), "street")
    open_dashboard(page, server_url)
    expect(page.locator("[data-testid=dashboard-area]")).to_have_text("解放碑街道")
    community = page.locator("#area-table tbody tr", has_text="民生路社区")
    expect(community.locator("[data-col=filed]")).to_have_text("3")

    community.get_by_role("link", name="民生路社区").click()
    page.wait_for_url(re.compile(r"/dashboard/\?area=\d+"))
    expect(page.locator("[data-testid=dashboard-area]")).to_have_text("民生路社区")
    expect(page.locator("[data-testid=crumbs]")).to_contain_text("解放碑街道")
    expect(page.locator("[data-figure=filed]")).to_have_text("3")
    grids = page.locator("#area-table tbody tr")
    expect(grids.filter(has_text="民生路社区第1网格").locator("[data-col=filed]")).to_have_text("3")
    expect(page.locator("[data-chart=chart-area] canvas")).to_have_count(1)


def test_it_downloads_the_export_with_chinese_intact(desktop, login, server_url, waiting):
    page = login(desktop.new_page(), "street")
    open_dashboard(page, server_url)

    with page.expect_download() as download_info:
        page.locator("[data-testid=export-link]").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    data = Path(download.path()).read_bytes()
    assert data.startswith(BOM)
    text = data.decode("utf-8-sig")
    assert "某工地拖欠12名农民工工资" in text
    assert "劳动争议" in text and "民生路社区" in text
    assert len(text.strip().splitlines()) == 1 + 3


def test_it_fits_a_phone_and_opens_the_big_screen(phone, login, server_url, waiting):
    page = login(phone.new_page(), "street")
    page.goto(f"{server_url}/dashboard/")
    expect(page.locator("#triage-queue > li")).to_have_count(3)
    assert_no_horizontal_scroll(page)
    screenshot(page, "dashboard-360")

    page.goto(f"{server_url}/dashboard/screen/")
    expect(page.locator("body.screen")).to_be_visible()
    expect(page.locator("#screen-figures [data-figure=unassigned]")).to_have_text("3")
    expect(page.locator("[data-chart=screen-trend] canvas")).to_have_count(1)
    screenshot(page, "screen-360")


def test_it_shows_a_refused_queue_action_in_the_row_on_a_phone(phone, login, server_url, waiting):
    """Bad input answers 400 with the row: htmx swaps it in, in Chinese, without a reload;
    the open panel still fits a 360-px screen."""
    page = login(phone.new_page(), "street")
    page.goto(f"{server_url}/dashboard/")
    top = page.locator(f"#queue-{waiting[0].pk}")
    top.locator("summary").first.click()
    escalate = top.locator("details[data-action=escalate]")
    expect(escalate).to_be_visible()  # the panel came in by htmx
    assert_no_horizontal_scroll(page)
    page.evaluate("window.notReloaded = true")
    escalate.locator("summary").click()
    escalate.locator("textarea").fill("   ")  # passes `required`, but is no reason
    escalate.locator("button[type=submit]").click()

    row = page.locator(f"#queue-{waiting[0].pk}")
    expect(row.locator(".invalid-feedback")).to_contain_text("该字段是必填项。")
    expect(row).to_have_attribute("data-state", "queued")
    assert page.evaluate("window.notReloaded") is True
    assert Case.objects.get(pk=waiting[0].pk).status == CaseStatus.FILED
    assert_no_horizontal_scroll(page)
    screenshot(page, "dashboard-360-refused")

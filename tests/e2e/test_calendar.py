"""An admin fills in next year's holidays from the State Council's notice before cases'
deadlines need them: the warning, the paste, the preview beside the month grid, the save."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from grids.workdays import calendar_coverage

pytestmark = pytest.mark.e2e

# A sample in the notice's wording (for the test only; the real one is pasted by an admin).
SAMPLE = """国务院办公厅关于{year}年部分节假日安排的通知（测试样例）
一、元旦：1月1日至3日放假，共3天。
二、春节：2月6日至12日放假调休，共7天。2月14日（周日）、2月20日（周六）上班。
"""


def test_an_admin_imports_the_holiday_notice_from_the_warning(desktop, login, server_url):
    coverage = calendar_coverage(timezone.localdate())
    if coverage.ok:
        pytest.skip("the calendar package already covers the next 90 days: no warning to follow")
    year = coverage.uncovered[0]
    page = login(desktop.new_page(), "admin")
    page.goto(f"{server_url}/admin/")

    warning = page.locator("[data-testid=calendar-warning]")
    expect(warning).to_contain_text(f"工作日历未覆盖 {year} 年")
    warning.get_by_role("link", name="立即导入").click()

    page.locator("#id_text").fill(SAMPLE.format(year=year))
    page.get_by_role("button", name="预览").click()
    expect(page.locator("[data-testid=preview-title]")).to_contain_text(
        f"{year} 年：放假 10 天，调休上班 2 天"
    )
    expect(
        page.locator(".cal-month").filter(has_text=f"{year}年2月").locator("td.off")
    ).to_have_count(7)
    expect(
        page.locator(".cal-month").filter(has_text=f"{year}年2月").locator("td.work")
    ).to_have_count(2)

    page.locator("[data-testid=confirm]").click()
    expect(page.locator(".messagelist")).to_contain_text(f"已保存 {year} 年的 12 个日期")
    expect(page.locator("[data-testid=calendar-warning]")).to_have_count(0)

"""The foundations through a browser: the admin runs the area tree and staff assignments,
and a grid worker's phone shows their place in Chinese."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import assert_no_horizontal_scroll

pytestmark = pytest.mark.e2e


def test_it_lets_an_admin_find_an_area_and_assign_a_user_in_the_admin(desktop, login, open_nav):
    page = login(desktop.new_page(), "admin")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    open_nav(page, "后台管理")
    page.locator("#content-main").get_by_role("link", name="区域", exact=True).click()
    page.locator("#searchbar").fill("民生路社区")
    page.locator("#searchbar").press("Enter")
    row = page.locator("#result_list tbody tr").filter(
        has=page.locator("th a", has_text=re.compile(r"^民生路社区$"))
    )
    expect(row).to_have_count(1)
    expect(page.locator("#result_list thead")).to_contain_text("路径")
    expect(row.locator(".field-path_display")).to_have_text("渝中区 / 解放碑街道 / 民生路社区")

    page.locator(".breadcrumbs").get_by_role("link", name="首页").click()
    page.locator("#content-main").get_by_role("link", name="用户", exact=True).click()
    page.locator("#searchbar").fill("gridworker2")
    page.locator("#searchbar").press("Enter")
    page.locator("#result_list").get_by_role("link", name="gridworker2", exact=True).click()
    expect(page.locator("#id_username")).to_have_value("gridworker2")

    index = int(page.locator("#id_assignments-TOTAL_FORMS").input_value())
    page.locator("#assignments-group .add-row a").click()
    new_row = page.locator(f"#assignments-{index}")
    new_row.locator(f"#id_assignments-{index}-role").select_option("grid_worker")
    new_row.locator(".field-area .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill("通远门社区第2网格")
    page.locator(".select2-results__option", has_text=re.compile(r"^通远门社区第2网格（")).click()
    expect(new_row.locator(".field-area .select2-selection__rendered")).to_contain_text(
        "通远门社区第2网格"
    )
    page.locator("input[name='_save']").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    expect(page.locator(".errornote")).to_have_count(0)

    page.locator("#result_list").get_by_role("link", name="gridworker2", exact=True).click()
    expect(page.locator("fieldset h2", has_text="岗位分配记录")).to_be_visible()
    history = page.locator(".field-assignment_history table.assignment-history")
    new_entry = history.locator("tbody tr", has_text="通远门社区第2网格（")
    expect(new_entry).to_have_count(1)
    expect(new_entry).to_contain_text("新增")
    expect(new_entry).to_contain_text("网格员")
    expect(new_entry).to_contain_text("管理员")  # who made the change
    # The earlier assignment from the demo data is still in the history.
    expect(history.locator("tbody tr", has_text="通远门社区第1网格（")).to_have_count(1)


def test_it_shows_a_grid_worker_their_role_and_grid_in_chinese_on_a_phone(phone, login):
    page = login(phone.new_page(), "gridworker")

    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page).to_have_title(re.compile("首页"))
    assignment = page.locator(".list-group-item", has_text="网格员")
    expect(assignment).to_contain_text("民生路社区第1网格")
    expect(assignment.locator(".badge")).to_have_text("网格员")
    expect(page.get_by_role("heading", level=1)).to_contain_text("张网格")
    assert_no_horizontal_scroll(page)

    # The menu is folded away on a phone and opens with the toggler.
    expect(page.locator("#main-nav")).to_be_hidden()
    page.locator(".navbar-toggler").click()
    nav = page.locator("#main-nav")
    for label in ("首页", "登记纠纷", "我的案件"):
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    expect(nav.locator("[data-testid=who]")).to_contain_text("张网格 · 网格员")
    assert_no_horizontal_scroll(page)

"""A hand-off reaches the next person at once, on their phone: the grid worker files, the
community secretary's badge shows the new case; she assigns it and the mediator's inbox
says so."""

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import assert_no_horizontal_scroll

pytestmark = pytest.mark.e2e


def test_filing_and_assigning_reach_the_next_person(wage_case, phone, login, open_nav, server_url):
    secretary = login(phone.new_page(), "secretary")
    badge = secretary.locator("nav.navbar [data-testid=unread-count]")
    expect(badge).to_contain_text("1")
    open_nav(secretary, "消息")
    item = secretary.locator("#notifications li[data-notification]").first
    expect(item).to_contain_text(f"新案件待处理：{wage_case.number}")
    assert_no_horizontal_scroll(secretary)

    item.get_by_role("link").first.click()
    assign = secretary.locator("details[data-action=assign]")
    assign.locator("summary").click()
    assign.locator("select[name='assign-mediator']").select_option(label="赵调解")
    assign.get_by_role("button", name="分派").click()
    expect(secretary.locator("#timeline li[data-event=assigned]")).to_contain_text("赵调解")

    mediator = login(phone.new_page(), "mediator")
    open_nav(mediator, "消息")
    expect(mediator.locator("#notifications li[data-notification]").first).to_contain_text(
        f"案件已分派给您：{wage_case.number}"
    )

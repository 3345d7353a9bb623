""" "即将超时" on a 360-px phone: a case 20 hours after filing (warned at 18 h, due at 24 h)
carries the badge in the list, "只看即将超时" narrows the list to it, and its page says which
deadline is near. No sweep has run: the badge comes from the clock."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from disputes import services
from disputes.models import Case, CaseEvent, Category, Channel
from grids.models import Area, User
from sla.models import SlaCheck
from tests.e2e.helpers import assert_no_horizontal_scroll, screenshot

pytestmark = pytest.mark.e2e


def filed_ago(cause: str, age: timedelta) -> Case:
    """Filed through the service now, then every time point moved back by `age` (the demo
    people hold their posts from today only), the stored warning times with the deadlines."""
    case = services.case_file(
        actor=User.objects.get(username="gridworker"),
        area=Area.objects.get(code="500103001001G01"),
        category=Category.objects.get(code="0203"),  # a leak: handled by the community
        cause=cause,
        address="民生路12号3单元502",
        channel=Channel.GRID_WORKER,
        parties=[{"side": "applicant", "name": "李秀英", "phone": "13912345678"}],
    )
    check = case.sla_check
    Case.objects.filter(pk=case.pk).update(
        filed_at=case.filed_at - age,
        assign_due_at=case.assign_due_at - age,
        close_due_at=case.close_due_at - age,
    )
    SlaCheck.objects.filter(case=case).update(
        next_check_at=check.next_check_at - age,
        warn_assign_at=check.warn_assign_at - age,
        warn_close_at=check.warn_close_at - age,
    )
    CaseEvent.objects.filter(case=case).update(at=case.filed_at - age)
    return Case.objects.get(pk=case.pk)


def test_it_shows_what_is_due_soon_on_a_phone(seeded, phone, login, server_url):
    soon = filed_ago("楼上漏水（已登记20小时）", timedelta(hours=20))
    fresh = filed_ago("阳台漏水（刚登记）", timedelta(minutes=5))
    page = login(phone.new_page(), "secretary")
    page.goto(f"{server_url}/cases/")

    row = page.locator(f"#case-list [data-case='{soon.number}']")
    expect(row.locator("[data-due-soon]")).to_have_text("即将超时")
    expect(row.locator("[data-testid=due-soon]")).to_have_text("分派即将超时")
    other = page.locator(f"#case-list [data-case='{fresh.number}']")
    expect(other.locator("[data-due-soon]")).to_have_count(0)
    assert_no_horizontal_scroll(page)

    page.get_by_label("只看即将超时").check()
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("#case-list [data-case]")).to_have_count(1)
    expect(page.locator(f"#case-list [data-case='{soon.number}']")).to_be_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, "due-soon-list")

    page.locator(f"#case-list [data-case='{soon.number}']").click()
    expect(page.locator("#case-panel [data-due-soon]")).to_have_text("即将超时")
    expect(page.locator("#case-panel [data-testid=due-soon]")).to_have_text("分派即将超时")
    assert_no_horizontal_scroll(page)

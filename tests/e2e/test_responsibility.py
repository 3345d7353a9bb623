"""Who was responsible when, in a browser at an office PC: the street centre looks up who
held a grid on a day (after the grid worker was moved to another grid by an edit) and
follows the name to the person's posts over time."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.helpers import assert_no_horizontal_scroll, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture
def moved(seeded):
    """孙网格 held 民生路社区第1网格 from ten days ago; an admin then edited his assignment in
    place to 第2网格 (instead of ending it), five days ago. Returns a day in between."""
    import time_machine

    from grids import services
    from grids.models import Area, User
    from tests.factories import UserFactory

    admin = User.objects.get(username="admin")
    sun = UserFactory(username="sun", real_name="孙网格")
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=10), tick=False):
        assignment = services.assignment_create(
            user=sun, role="grid_worker", area=Area.objects.get(code="500103001001G01"),
            actor=admin,
        )  # fmt: skip
    with time_machine.travel(now - timedelta(days=5), tick=False):
        assignment.area = Area.objects.get(code="500103001001G02")
        services.assignment_update(assignment=assignment, actor=admin)
    return timezone.localdate() - timedelta(days=7)


def test_it_answers_who_held_a_grid_on_a_day_and_lists_their_posts(
    desktop, login, open_nav, server_url, moved
):
    page = login(desktop.new_page(), "street")
    open_nav(page, "责任人查询")
    expect(page.get_by_role("heading", name="责任人查询")).to_be_visible()

    form = page.locator("#who-held-form")
    form.locator('input[name="q"]').fill("民生路社区第1网格")
    form.locator('input[name="on"]').fill(moved.isoformat())
    form.get_by_role("button", name="查询").click()
    held = page.locator("#who-held")
    expect(held).to_contain_text("民生路社区第1网格")
    expect(page.get_by_test_id("held-here")).to_contain_text("孙网格")
    expect(page.get_by_test_id("held-here")).to_contain_text("网格员")
    expect(page.get_by_test_id("held-here")).not_to_contain_text("张网格")
    screenshot(page, "responsibility-grid")

    # Today 第1网格 is 张网格's (the demo's grid worker): the edit moved 孙网格 away from
    # then on, it did not rewrite who held the grid before.
    form.locator('input[name="on"]').fill(timezone.localdate().isoformat())
    form.get_by_role("button", name="查询").click()
    expect(page.get_by_test_id("held-here")).to_contain_text("张网格")
    expect(page.get_by_test_id("held-here")).not_to_contain_text("孙网格")
    expect(page.get_by_test_id("held-above")).to_contain_text("赵调解")  # the community's

    page.goto(f"{server_url}/responsibility/?q=民生路社区第1网格&on={moved.isoformat()}")
    page.get_by_test_id("held-here").get_by_role("link", name="孙网格").click()
    posts = page.get_by_test_id("posts")
    expect(posts).to_contain_text("民生路社区第2网格")
    expect(posts).to_contain_text("民生路社区第1网格")
    expect(posts.locator("li")).to_have_count(2)
    expect(page.locator("#person-posts")).to_contain_text("至今在岗")
    assert re.search(r"/responsibility/\?person=\d+", page.url)


def test_it_fits_a_phone(phone, login, server_url, moved):
    page = login(phone.new_page(), "district")
    page.goto(f"{server_url}/responsibility/?q=民生路社区第1网格&on={moved.isoformat()}"
              "&who=孙网格")  # fmt: skip
    expect(page.get_by_test_id("held-here")).to_contain_text("孙网格")
    expect(page.get_by_test_id("posts")).to_contain_text("随后调至民生路社区第2网格")
    assert_no_horizontal_scroll(page)

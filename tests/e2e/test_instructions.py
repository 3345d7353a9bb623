"""An instruction from the street centre reaches every grid worker of a community, on their
phones: the street centre sends it to the grid workers of 民生路社区 (three of them: the demo's
and two more made here), each sees the banner on the page they are on and taps 已签收 (one
from the instruction's own page), and the sender's progress page, left open, counts up to
3/3 by itself (htmx polling every 5 s), without a reload.

Each person has a browser context of their own (their own cookies), all at 360 px."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from grids.demo import DEMO_PASSWORD
from grids.models import Area, Role, User
from tests.e2e.helpers import PHONE_WIDTH, assert_no_horizontal_scroll, screenshot

pytestmark = pytest.mark.e2e

COMMUNITY = "500103001001"  # 民生路社区, in the street centre's 解放碑街道
POLL_MS = 12_000  # two polls at most


@pytest.fixture
def grid_workers(seeded):
    """The demo's grid worker of 民生路社区 and two more on its other grids."""
    more = (("gridworker_b", "钱网格", "G02"), ("gridworker_c", "孙网格", "G03"))
    for username, name, grid in more:
        user = User.objects.create(username=username, real_name=name, phone="13900000000")
        user.set_password(DEMO_PASSWORD)
        user.save()
        user.assignments.create(
            role=Role.GRID_WORKER,
            area=Area.objects.get(code=f"{COMMUNITY}{grid}"),
            started_at=timezone.now() - timedelta(days=1),
        )
    return ["gridworker", "gridworker_b", "gridworker_c"]


@pytest.fixture
def phone_for(new_context, seeded):
    """A fresh phone (browser context) per person; none may break the CSP."""
    contexts = []

    def phone_for():
        context = new_context(
            viewport={"width": PHONE_WIDTH, "height": 740},
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
        )
        context.set_default_timeout(10_000)
        context.csp_violations = []

        def on_console(message):
            if message.type == "error" and "Content Security Policy" in message.text:
                context.csp_violations.append(message.text)

        context.on("console", on_console)
        contexts.append(context)
        return context

    yield phone_for
    assert [v for c in contexts for v in c.csp_violations] == []


def test_an_instruction_is_acknowledged_by_every_grid_worker_and_counted_live(
    grid_workers, phone_for, login, open_nav
):
    sender = login(phone_for().new_page(), "street")
    open_nav(sender, "指令通知")
    sender.get_by_test_id("new-instruction").click()
    form = sender.get_by_test_id("send-form")
    form.get_by_label("发送范围").select_option(str(Area.objects.get(code=COMMUNITY).pk))
    expect(form.get_by_label("网格员")).to_be_checked()
    form.get_by_label("标题").fill("今晚防汛值守")
    form.get_by_label("内容").fill("请今晚20:00前到岗，排查低洼地带，完成后回复。")
    due = timezone.localtime() + timedelta(hours=3)
    form.get_by_label("签收期限").fill(due.strftime("%Y-%m-%dT%H:%M"))
    assert_no_horizontal_scroll(sender)
    form.get_by_test_id("send").click()

    expect(sender.locator(".alert-success")).to_contain_text("已发送给3人")
    counted = sender.get_by_test_id("acked-count")
    expect(counted).to_have_text("0/3")
    expect(sender.get_by_test_id("laggard")).to_have_count(3)
    assert_no_horizontal_scroll(sender)
    screenshot(sender, "instruction-progress-0")

    for n, username in enumerate(grid_workers):
        worker = login(phone_for().new_page(), username)
        banner = worker.get_by_test_id("instruction-banner")
        expect(banner).to_contain_text("待签收指令")
        expect(banner).to_contain_text("今晚防汛值守")
        assert_no_horizontal_scroll(worker)
        if n == 0:
            # The first opens it and acknowledges on the instruction's page.
            banner.get_by_test_id("banner-view").click()
            expect(worker.get_by_test_id("instruction-body")).to_contain_text("排查低洼地带")
            worker.get_by_test_id("ack").click()
            expect(worker.get_by_test_id("acked")).to_contain_text("已签收")
            # Nothing else waits for them: the banner is gone from this page too.
            expect(worker.get_by_test_id("instruction-banner")).to_have_count(0)
            screenshot(worker, "instruction-acked")
        else:
            screenshot(worker, f"instruction-banner-{n}")
            banner.get_by_test_id("banner-ack").click()
            expect(worker.get_by_test_id("banner-acked")).to_contain_text("已签收")
        # Acknowledged for good: the next page has no banner.
        worker.reload()
        expect(worker.get_by_test_id("instruction-banner")).to_have_count(0)
        # The sender's page, untouched, catches up by itself.
        expect(counted).to_have_text(f"{n + 1}/3", timeout=POLL_MS)

    expect(sender.get_by_test_id("branch-table")).to_contain_text("民生路社区第3网格")
    # The list of who is missing followed the figures (it reloads when they move).
    expect(sender.get_by_test_id("no-laggards")).to_be_visible(timeout=POLL_MS)
    expect(sender.get_by_test_id("laggard")).to_have_count(0)
    screenshot(sender, "instruction-progress-3")
    # Everyone has acknowledged: the page stops polling.
    expect(sender.locator("#instruction-progress")).not_to_have_attribute("hx-trigger", "every 5s")

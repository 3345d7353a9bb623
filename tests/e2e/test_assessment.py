"""The monthly ranking on a street centre's phone (360 px): last month's published
scorecards, the drill-down to a community's grid workers, the definitions beside the
figures, and the Excel file."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from assessment.figures import cards_in_use
from tests.e2e.helpers import assert_no_horizontal_scroll, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture
def published(seeded):
    """Two cases in 民生路社区 last month (one handled in time, one not yet assigned), and
    last month's scorecards, published."""
    import importlib

    import time_machine
    from django.apps import apps

    from assessment import services as assessment
    from disputes import services
    from disputes.models import Category
    from grids.models import Area, Assignment, User

    # The default scheme is migration data, which an earlier browser test's flush removed.
    importlib.import_module("assessment.migrations.0002_default_scheme").create(apps, None)
    # The demo's people were assigned today; the story is last month's.
    Assignment.objects.update(started_at=timezone.now() - timedelta(days=70))
    district, admin = User.objects.get(username="district"), User.objects.get(username="admin")
    month = assessment.last_month(timezone.localdate())
    first = timezone.make_aware(timezone.datetime(month.year, month.month, 3, 9))
    for hours, assign in ((0, True), (30, False)):
        with time_machine.travel(first + timedelta(hours=hours), tick=False):
            case = services.case_file(
                actor=User.objects.get(username="gridworker"),
                area=Area.objects.get(code="500103001001G01M01"),
                category=Category.objects.get(code="0203"), cause="楼上漏水",
                address="民生路88号", channel="grid_worker",
                parties=[{"side": "applicant", "name": "李大山"}],
            )  # fmt: skip
        if assign:
            with time_machine.travel(first + timedelta(hours=2), tick=False):
                services.case_assign(case=case, mediator=User.objects.get(username="mediator"),
                                     actor=district)  # fmt: skip
    snapshot = assessment.snapshot_compute(month=month, actor=admin)
    return assessment.snapshot_publish(snapshot=snapshot, actor=admin)


def test_it_shows_a_street_its_ranking_on_a_phone_and_drills_down(
    phone, login, open_nav, server_url, published
):
    page = login(phone.new_page(), "street")
    open_nav(page, "月度考核")
    expect(page.get_by_test_id("container")).to_have_text("解放碑街道")
    expect(page.get_by_test_id("version")).to_contain_text("已发布")
    table = page.locator("#ranking-table")
    expect(table).to_contain_text("民生路社区")
    expect(page.locator("#own-scorecard")).to_be_visible()
    expect(page.locator("#definitions")).to_contain_text("核实化解率")
    cards = "督办卡按时反馈率" if cards_in_use() else "督办卡（待上线）"
    expect(page.locator("#definitions")).to_contain_text(cards)
    assert_no_horizontal_scroll(page)
    screenshot(page, "assessment-street-phone")

    table.get_by_role("link", name="民生路社区").click()
    expect(page.get_by_test_id("container")).to_have_text("民生路社区")
    expect(page.locator("#ranking-table")).to_contain_text("赵调解")
    assert_no_horizontal_scroll(page)

    with page.expect_download() as download:
        page.get_by_test_id("export-link").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    assert "考核" in download.value.suggested_filename

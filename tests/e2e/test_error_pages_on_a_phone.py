"""Error pages on a 360-px phone: a resident with a bad QR code, or whose report form
expired, reads Chinese, fits the screen, finds no way to the staff login, and "返回" takes
them back; a signed-in worker who opens a missing page is offered 首页 as well."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import assert_no_horizontal_scroll, screenshot

pytestmark = pytest.mark.e2e

GRID = "500103001001G01"


@pytest.fixture(autouse=True)
def _private_cache(settings):
    """Its own cache, so other runs' rate-limit counters (same 127.0.0.1) stay out."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "e2e-error-pages",
        }
    }


def assert_no_way_to_the_login(page):
    expect(page.locator("a[href='/'], a[href*='/accounts/login']")).to_have_count(0)
    expect(page.get_by_text("登录")).to_have_count(0)
    expect(page.get_by_role("button", name="返回")).to_be_visible()


def test_a_resident_with_a_bad_qr_code_gets_back_only(phone, server_url):
    resident = phone.new_page()
    resident.goto(f"{server_url}/r/{GRID}/")
    expect(resident.locator("#id_text")).to_be_visible()

    response = resident.goto(f"{server_url}/r/NO-SUCH-PLACE/")

    assert response.status == 404
    expect(resident.get_by_role("heading", level=1)).to_have_text("页面不存在，或您无权查看。")
    assert_no_way_to_the_login(resident)
    assert_no_horizontal_scroll(resident)
    screenshot(resident, "error-404-resident-360")
    resident.get_by_role("button", name="返回").click()
    resident.wait_for_url(f"{server_url}/r/{GRID}/")


def test_a_residents_expired_form_says_to_go_back_and_send_it_again(phone, server_url):
    resident = phone.new_page()
    resident.goto(f"{server_url}/r/{GRID}/")
    resident.locator("#id_text").fill("楼上住户每晚十一点后拖拽家具，噪音严重")
    phone.clear_cookies()  # the form's token is gone, as after a long pause or a new browser

    resident.get_by_role("button", name="提交", exact=True).click()

    expect(resident.get_by_role("heading", level=1)).to_have_text("表单已过期，内容没有提交。")
    expect(resident.locator("main")).to_contain_text("请返回上一页并刷新")
    assert_no_way_to_the_login(resident)
    assert_no_horizontal_scroll(resident)
    screenshot(resident, "error-csrf-resident-360")
    resident.get_by_role("button", name="返回").click()
    resident.wait_for_url(f"{server_url}/r/{GRID}/")
    expect(resident.locator("#id_text")).to_be_visible()


def test_a_signed_in_worker_is_offered_home_on_a_missing_page(phone, login, server_url):
    worker = login(phone.new_page(), "gridworker")

    response = worker.goto(f"{server_url}/cases/999999/")

    assert response.status == 404
    assert_no_horizontal_scroll(worker)
    screenshot(worker, "error-404-worker-360")
    worker.get_by_role("link", name="首页").click()
    worker.wait_for_url(re.compile(rf"^{re.escape(server_url)}/[^/]*$"))
    expect(worker.get_by_role("heading", name="登录")).to_have_count(0)

"""The area picker on a phone (360 px): a street centre's filing form holds no select of
every grid in the street; they type a grid's code or name, pick it from the suggestions
and file the case there."""

import re

from django.urls import reverse
from playwright.sync_api import expect

from disputes.models import Case
from grids.models import Area


def test_a_street_centre_picks_a_grid_by_typing_and_files_a_case(phone, login, server_url):
    target = Area.objects.get(code="500103001001G02")
    page = login(phone.new_page(), "street")
    page.goto(server_url + reverse("disputes:file"))
    assert page.locator("#id_area option").count() < 10  # not the street's every grid

    page.get_by_test_id("area-search").fill("500103001001G0")
    choice = page.locator(f'[data-area-id="{target.pk}"]')
    expect(choice).to_be_visible()
    choice.click()
    expect(page.locator("#id_area")).to_have_value(str(target.pk))
    expect(page.get_by_test_id("area-suggestions")).to_be_empty()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360  # no horizontal scroll on the phone

    page.locator("#id_category").select_option(label="拖欠工资")
    page.locator("#id_cause").fill("工地拖欠工资")
    page.locator("#id_address").fill("民生路8号工地")
    page.locator("#id_parties-0-name").fill("李大山")
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    case = Case.objects.get(cause="工地拖欠工资")
    assert case.area == target

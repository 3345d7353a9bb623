"""Correcting a case's record (更正), in Chinese at phone width: the street centre (李综治)
opens a leak case the grid worker filed with the wrong door number and the wrong type,
corrects the address and the type with a reason, and reads the before → after in the
timeline; the case now sits with the grid the new type belongs to."""

import pytest
from playwright.sync_api import expect

from disputes import services
from disputes.models import Case, CaseEvent, Category, Channel
from grids.models import Area, User
from tests.e2e.helpers import assert_no_horizontal_scroll, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture
def leak_case(seeded) -> Case:
    return services.case_file(
        actor=User.objects.get(username="gridworker"),
        area=Area.objects.get(code="500103001001G01"),
        category=Category.objects.get(code="0203"),  # 房屋漏水: the community handles it
        cause="楼道里堆满纸箱，邻居投诉漏水",
        address="民生路12号1单元",
        channel=Channel.GRID_WORKER,
        parties=[
            {"side": "applicant", "kind": "person", "name": "李秀英", "phone": "13912345678"},
            {"side": "respondent", "kind": "person", "name": "王强"},
        ],
    )


def open_correction(page, server_url, case):
    page.goto(f"{server_url}/cases/{case.pk}/")
    assert_no_horizontal_scroll(page)
    page.locator("[data-action=correct] a").click()
    expect(page.get_by_role("heading", name="更正案件信息")).to_be_visible()
    assert_no_horizontal_scroll(page)


def test_the_street_centre_corrects_the_address_and_the_type_on_a_phone(
    leak_case, phone, login, server_url
):
    page = login(phone.new_page(), "street")
    open_correction(page, server_url, leak_case)
    # The form starts from the case as it is, parties included.
    expect(page.locator("#id_address")).to_have_value("民生路12号1单元")
    expect(page.locator("input[name='parties-0-name']")).to_have_value("李秀英")

    page.locator("#id_address").fill("民生路14号1单元")
    page.locator("#id_category").select_option(label="楼道堆物")
    page.locator("#id_reason").fill("现场核实：门牌号录错，纠纷实为楼道堆物")
    assert_no_horizontal_scroll(page)
    screenshot(page, "correction-form")
    page.locator("#correct-submit").click()

    page.wait_for_url(f"{server_url}/cases/{leak_case.pk}/")
    entry = page.locator("#timeline li[data-event=corrected]")
    expect(entry).to_contain_text("已更正")
    expect(entry).to_contain_text("现场核实：门牌号录错，纠纷实为楼道堆物")
    address = entry.locator("li[data-field=address]")
    expect(address).to_contain_text("地址")
    expect(address.locator("del")).to_have_text("民生路12号1单元")
    expect(address.locator("ins")).to_have_text("民生路14号1单元")
    category = entry.locator("li[data-field=category]")
    expect(category).to_contain_text("纠纷类型")
    expect(category.locator("ins")).to_contain_text("楼道堆物")
    # "Small matters stay in the grid": the new type moved the case to the grid.
    expect(entry.locator("li[data-field=handling_area] ins")).to_have_text("民生路社区第1网格")
    expect(entry.locator("[data-testid=limits-kept]")).to_have_text("正在计时的期限不变。")
    assert_no_horizontal_scroll(page)
    screenshot(page, "case-corrected")

    case = Case.objects.get(pk=leak_case.pk)
    assert (case.address, case.category.code, case.handling_level) == (
        "民生路14号1单元",
        "0201",
        "grid",
    )


def test_a_correction_without_a_reason_is_refused_and_nothing_changes(
    leak_case, phone, login, server_url
):
    page = login(phone.new_page(), "secretary")
    open_correction(page, server_url, leak_case)
    page.locator("#id_address").fill("民生路14号1单元")
    page.locator("#correct-submit").click()

    expect(page.locator("[data-error-for=reason]")).to_be_visible()
    expect(page.locator("#id_address")).to_have_value("民生路14号1单元")  # what was typed stays
    assert_no_horizontal_scroll(page)
    assert Case.objects.get(pk=leak_case.pk).address == "民生路12号1单元"
    assert not CaseEvent.objects.filter(case=leak_case, kind="corrected").exists()


def test_the_mediator_adds_a_party_with_the_filing_forms_button(
    leak_case, phone, login, server_url
):
    services.case_assign(
        case=leak_case,
        mediator=User.objects.get(username="mediator"),
        actor=User.objects.get(username="secretary"),
    )
    page = login(phone.new_page(), "mediator")
    open_correction(page, server_url, leak_case)
    page.locator("#add-party").click()
    page.locator("select[name='parties-2-side']").select_option("respondent")
    page.locator("input[name='parties-2-name']").fill("某物业服务有限公司")
    page.locator("select[name='parties-2-kind']").select_option("organisation")
    page.locator("#id_reason").fill("补充物业公司为被申请人")
    page.locator("#correct-submit").click()

    page.wait_for_url(f"{server_url}/cases/{leak_case.pk}/")
    entry = page.locator("#timeline li[data-event=corrected]")
    expect(entry.locator("li[data-field=party]")).to_contain_text("新增当事人")
    expect(entry.locator("li[data-field=party] ins")).to_have_text("某物业服务有限公司（被申请人）")
    expect(page.locator("[data-testid=parties]")).to_contain_text("某物业服务有限公司")

"""A dispute's life through a browser: filed on a grid worker's phone, assigned by the
community secretary, mediated and resolved on the mediator's phone, and hidden from a grid
worker elsewhere."""

import re

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from disputes.models import Case, CaseEvent, CaseStatus, Outcome
from tests.e2e.helpers import assert_no_horizontal_scroll, png_bytes, screenshot

pytestmark = pytest.mark.e2e

CJK = re.compile(r"[\u4e00-\u9fff]")
MINUTE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")


def zh(label) -> str:
    with translation.override("zh-hans"):
        return str(label)


def wait_for_image(page, image):
    image.scroll_into_view_if_needed()  # the thumbnails load lazily
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )


def test_it_lets_a_grid_worker_file_a_wage_dispute_with_a_photo_on_a_phone(
    phone, login, open_nav, png_file
):
    page = login(phone.new_page(), "gridworker")
    open_nav(page, "登记纠纷")
    expect(page.get_by_role("heading", level=1)).to_have_text("登记纠纷")
    # Their own grid is already chosen; a grid worker files where they work.
    expect(page.locator("#id_area option:checked")).to_contain_text("民生路社区第1网格")

    wage = page.locator("#id_category optgroup[label='劳动争议'] option", has_text="拖欠工资")
    expect(wage).to_have_count(1)
    page.locator("#id_category").select_option(label="拖欠工资")
    page.locator("#id_cause").fill("建筑工地拖欠12名农民工三个月工资")
    page.locator("#id_address").fill("民生路88号在建工地")
    page.locator("#id_people_involved").fill("13")
    page.locator("#id_amount_involved").fill("86000")

    expect(page.locator("#id_parties-0-side")).to_have_value("applicant")
    page.locator("#id_parties-0-kind").select_option("person")
    page.locator("#id_parties-0-name").fill("李大山")
    page.locator("#id_parties-0-phone").fill("13912345678")
    expect(page.locator("#id_parties-1-side")).to_have_value("respondent")
    page.locator("#id_parties-1-kind").select_option("organisation")
    page.locator("#id_parties-1-name").fill("重庆某某建筑劳务有限公司")
    page.locator("#id_photos").set_input_files(png_file)

    assert_no_horizontal_scroll(page)
    screenshot(page, "file-360")
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))

    case = Case.objects.get(cause="建筑工地拖欠12名农民工三个月工资")
    assert case.category.code == "1001"
    assert case.filed_by.username == "gridworker"
    assert case.status == CaseStatus.FILED
    assert case.people_involved == 13
    assert sorted(case.parties.values_list("side", "kind", "name", "phone")) == [
        ("applicant", "person", "李大山", "13912345678"),
        ("respondent", "organisation", "重庆某某建筑劳务有限公司", ""),
    ]
    photo = case.attachments.get()
    assert (photo.content_type, photo.original_name) == ("image/png", "现场照片.png")
    assert photo.file.read() == png_file.read_bytes()

    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/$"))
    expect(page.locator(".alert-success")).to_contain_text(case.number)
    expect(page.get_by_role("heading", level=1)).to_have_text(case.cause)
    expect(page.locator("[data-testid=status]")).to_have_text(zh(CaseStatus.FILED.label))
    applicant = page.locator("[data-party='李大山']")
    expect(applicant).to_contain_text("申请人")
    expect(applicant).to_contain_text("139****5678")  # masked until asked for
    page.get_by_test_id("reveal-parties").click()  # the filer may: recorded
    expect(page.get_by_test_id("revealed-note")).to_be_visible()
    expect(page.locator("[data-party='李大山']")).to_contain_text("13912345678")
    expect(page.locator("[data-party='重庆某某建筑劳务有限公司']")).to_contain_text("被申请人")
    wait_for_image(page, page.locator(f"#case-panel img[alt='{photo.original_name}']"))
    expect(page.locator("#timeline li[data-event=filed]")).to_contain_text("张网格")
    assert_no_horizontal_scroll(page)
    screenshot(page, "case-360")

    open_nav(page, "我的案件")
    expect(page.get_by_role("heading", level=1)).to_have_text("我的案件")
    listed = page.locator(f"#case-list [data-case='{case.number}']")
    expect(listed).to_contain_text(case.cause)
    expect(listed).to_contain_text("拖欠工资")
    assert_no_horizontal_scroll(page)
    listed.click()
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/$"))


def test_it_takes_a_case_from_assignment_to_resolution_without_reloading_the_page(
    wage_case, desktop, phone, login, open_nav, server_url
):
    case_url = f"{server_url}/cases/{wage_case.pk}/"

    secretary = login(desktop.new_page(), "secretary")
    secretary.goto(case_url)
    secretary.evaluate("window.__sameDocument = true")
    assign = secretary.locator("details[data-action=assign]")
    expect(assign.locator("summary")).to_have_text("分派")
    assign.locator("summary").click()
    assign.locator("select[name='assign-mediator']").select_option(label="赵调解")
    assign.get_by_role("button", name="分派").click()
    assigned = secretary.locator("#timeline li[data-event=assigned]")
    expect(assigned).to_contain_text("王书记")
    expect(assigned).to_contain_text("赵调解")
    expect(secretary.locator("[data-testid=status]")).to_have_text(zh(CaseStatus.ASSIGNED.label))
    assert secretary.evaluate("window.__sameDocument") is True, "the page was reloaded"

    mediator = login(phone.new_page(), "mediator")
    open_nav(mediator, "我的案件")
    mediator.locator(f"#case-list [data-case='{wage_case.number}']").click()
    expect(mediator).to_have_url(case_url)
    mediator.evaluate("window.__sameDocument = true")

    progress = mediator.locator("details[data-action=progress]")
    expect(progress.locator("summary")).to_have_text("反馈进展")
    progress.locator("summary").click()
    progress.locator("textarea[name='progress-note']").fill(
        "已约双方到社区调解室面谈，核对工资表。"
    )
    progress.get_by_role("button", name="反馈进展").click()
    expect(mediator.locator("#timeline li[data-event=progress]")).to_contain_text("核对工资表")
    expect(mediator.locator("[data-testid=status]")).to_have_text(zh(CaseStatus.IN_MEDIATION.label))

    resolve = mediator.locator("details[data-action=resolve]")
    expect(resolve.locator("summary")).to_have_text("化解")
    resolve.locator("summary").click()
    resolve.locator("select[name='resolve-outcome']").select_option(label="达成协议")
    resolve.locator("textarea[name='resolve-note']").fill("公司同意月底前分两期付清。")
    resolve.get_by_role("button", name="化解").click()
    expect(mediator.locator("[data-testid=status]")).to_have_text(zh(CaseStatus.RESOLVED.label))
    expect(mediator.locator("#case-panel")).to_contain_text("达成协议")
    assert mediator.evaluate("window.__sameDocument") is True, "the page was reloaded"
    assert_no_horizontal_scroll(mediator)
    screenshot(mediator, "case-resolved-360")

    wage_case.refresh_from_db()
    assert (wage_case.status, wage_case.outcome) == (CaseStatus.RESOLVED, Outcome.AGREEMENT)
    assert wage_case.mediator.username == "mediator"

    # The timeline is the evidence: every step, who took it and when, in order.
    expected = [
        (CaseEvent.Kind.FILED, "张网格"),
        (CaseEvent.Kind.ASSIGNED, "王书记"),
        (CaseEvent.Kind.PROGRESS, "赵调解"),
        (CaseEvent.Kind.RESOLVED, "赵调解"),
    ]
    events = list(wage_case.events.all())
    assert [e.kind for e in events] == [kind for kind, _actor in expected]
    items = mediator.locator("#timeline li")
    expect(items).to_have_count(len(expected))
    for item, event, (kind, actor) in zip(items.all(), events, expected, strict=True):
        assert item.get_attribute("data-event") == kind
        label = zh(kind.label)
        assert CJK.search(label), f"{kind} has no Chinese label"
        expect(item.locator("strong")).to_have_text(label)
        expect(item).to_contain_text(actor)
        time = item.locator("time")
        expect(time).to_have_text(MINUTE)
        expect(time).to_have_text(timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M"))


def test_it_hides_a_case_and_its_photo_from_a_grid_worker_of_another_grid(
    wage_case, desktop, phone, login, server_url
):
    photo = wage_case.attachments.get()
    case_url = f"{server_url}/cases/{wage_case.pk}/"
    photo_url = f"{server_url}/cases/{wage_case.pk}/attachments/{photo.pk}/"

    # The same addresses work for the worker who filed it, so a 404 below means "hidden".
    owner = login(phone.new_page(), "gridworker")
    assert owner.goto(case_url).status == 200
    response = owner.request.get(photo_url)
    assert response.status == 200
    assert response.headers["content-type"] == "image/png"
    assert response.body() == png_bytes()

    outsider = login(desktop.new_page(), "gridworker2")
    assert outsider.goto(case_url).status == 404
    assert outsider.request.get(photo_url).status == 404
    assert outsider.request.get(f"{photo_url}?download=1").status == 404

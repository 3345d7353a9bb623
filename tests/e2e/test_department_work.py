"""A department's part, in Chinese at phone width: the labour bureau's liaison (吴人社) signs
for a wage case the community dispatched to it and reports completion with a photo; the
district centre verifies the report (pass), or fails it and the task goes back to the
department, which reports again. The centre works at a desk; the liaison on a phone."""

import pytest
from playwright.sync_api import expect

from disputes import services
from disputes.department_models import DepartmentTask
from disputes.models import Case
from grids.models import Department, User
from tests.e2e.helpers import assert_no_horizontal_scroll, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture
def dispatched(wage_case) -> Case:
    secretary = User.objects.get(username="secretary")
    case = services.case_assign(
        case=wage_case, mediator=User.objects.get(username="mediator"), actor=secretary
    )
    return services.case_dispatch(
        case=case,
        actor=secretary,
        department=Department.objects.get(code="HRSS"),
        note="请人社局督促施工单位支付工资",
    )


def act(page, name: str, fill: dict, files=None):
    box = page.locator(f"details[data-action={name}]")
    box.locator("summary").click()
    for field, value in fill.items():
        box.locator(f"[name='{name}-{field}']").fill(value)
    if files:
        box.locator(f"input[name='{name}-photos']").set_input_files(files)
    box.locator("button[type=submit]").click()


def liaison_signs_and_reports(page, server_url, case, png_file):
    page.goto(f"{server_url}/cases/{case.pk}/")
    assert_no_horizontal_scroll(page)
    departments = page.locator("[data-testid=departments]")
    expect(departments).to_contain_text("区人力资源和社会保障局")
    expect(departments).to_contain_text("牵头部门")
    expect(departments.locator("[data-testid=task-status]")).to_have_text("待签收")

    act(page, "sign_for", {"note": "已签收，安排劳动监察大队处理"})
    expect(page.locator("#timeline li[data-event=dept_signed]")).to_be_visible()
    expect(departments.locator("[data-testid=task-status]")).to_have_text("已签收，办理中")

    act(page, "report_completion", {"note": "施工单位已足额支付12人工资"}, files=[png_file])
    expect(page.locator("#timeline li[data-event=dept_reported]")).to_be_visible()
    expect(page.locator("[data-testid=task-status]")).to_have_text("已办结反馈，待核查")
    assert_no_horizontal_scroll(page)
    screenshot(page, "department-reported")


def centre_opens_the_report(login, phone, desktop, server_url, case, png_file):
    """The liaison (phone) reports; the district centre (desktop) opens the verify form."""
    page = login(phone.new_page(), "labour")
    liaison_signs_and_reports(page, server_url, case, png_file)
    centre = login(desktop.new_page(), "district")
    centre.goto(f"{server_url}/cases/{case.pk}/")
    centre.locator("details[data-action=verify_report] summary").click()
    return page, centre


def test_the_liaison_signs_for_and_reports_and_the_district_passes_it(
    dispatched, phone, desktop, login, server_url, png_file
):
    _page, centre = centre_opens_the_report(login, phone, desktop, server_url, dispatched, png_file)
    verify = centre.locator("details[data-action=verify_report]")
    verify.get_by_label("通过：部门办理完毕").check()
    verify.locator("button[type=submit]").click()
    expect(centre.locator("#timeline li[data-event=dept_verified]")).to_be_visible()
    expect(centre.locator("[data-testid=task-status]")).to_have_text("已核查通过")
    assert DepartmentTask.objects.get(case=dispatched).status == "done"


def test_a_failed_verification_sends_it_back_to_the_department(
    dispatched, phone, desktop, login, server_url, png_file
):
    page, centre = centre_opens_the_report(login, phone, desktop, server_url, dispatched, png_file)
    verify = centre.locator("details[data-action=verify_report]")
    verify.get_by_label("不通过：退回部门重办").check()
    verify.locator("button[type=submit]").click()
    # Without a reason the form says so and nothing changes.
    expect(centre.locator("details[data-action=verify_report] .invalid-feedback")).to_contain_text(
        "请说明反馈缺少什么"
    )
    assert DepartmentTask.objects.get(case=dispatched).status == "reported"
    verify = centre.locator("details[data-action=verify_report]")
    verify.get_by_label("不通过：退回部门重办").check()
    verify.locator("textarea[name='verify_report-note']").fill("缺少工资支付凭证")
    verify.locator("button[type=submit]").click()
    expect(centre.locator("[data-testid=task-status]")).to_have_text("已签收，办理中")

    # Back with the department: it sees the reason and can report again.
    page.goto(f"{server_url}/cases/{dispatched.pk}/")
    expect(page.locator("#timeline li[data-event=dept_verified]")).to_contain_text(
        "缺少工资支付凭证"
    )
    expect(page.locator("details[data-action=report_completion]")).to_be_visible()

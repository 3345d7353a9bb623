"""Checking a resolution and supervising, in Chinese at phone width: the mediator resolves on
a phone and cannot close their own case; the community secretary checks it on site and sends
it back with the reason; the mediator resolves again and the check passes it. The street
centre supervises a case by hand (督办) and the secretary answers the card."""

import pytest
from playwright.sync_api import expect

from disputes import services
from disputes.models import Case, CaseStatus, CloseKind, SupervisionCard
from grids.models import User
from sla.models import SlaPolicy, VerifyBy
from tests.e2e.helpers import assert_no_horizontal_scroll

pytestmark = pytest.mark.e2e
AGREED = {"outcome": "达成协议"}


def act(page, name: str, fill: dict, choose: str | None = None, select: dict | None = None):
    box = page.locator(f"details[data-action={name}]")
    box.locator("summary").click()
    if choose:
        box.get_by_label(choose).check()
    for field, label in (select or {}).items():
        box.locator(f"[name='{name}-{field}']").select_option(label=label)
    for field, value in fill.items():
        box.locator(f"[name='{name}-{field}']").fill(value)
    box.locator("button[type=submit]").click()


@pytest.fixture
def in_mediation(wage_case) -> Case:
    secretary = User.objects.get(username="secretary")
    mediator = User.objects.get(username="mediator")
    # The browser tests' database holds no policies (their flush empties the data
    # migrations'): this one asks for the check, as the shipped default does.
    policy = SlaPolicy.objects.create(code="checked", name="核查", verify_by=VerifyBy.UNIT)
    Case.objects.filter(pk=wage_case.pk).update(sla_policy=policy)
    wage_case.refresh_from_db()
    case = services.case_assign(case=wage_case, mediator=mediator, actor=secretary)
    return services.case_progress(case=case, actor=mediator, note="已约双方到社区调解")


def test_a_resolution_is_checked_sent_back_and_then_passed(phone, login, server_url, in_mediation):
    url = f"{server_url}/cases/{in_mediation.pk}/"
    mediator = login(phone.new_page(), "mediator")
    mediator.goto(url)
    act(mediator, "resolve", {"note": "双方签订协议，约定月底前付清"}, select=AGREED)
    expect(mediator.get_by_test_id("status")).to_have_text("已化解")
    expect(mediator.locator("details[data-action=close]")).to_have_count(0)
    expect(mediator.locator("details[data-action=verify]")).to_have_count(0)
    assert_no_horizontal_scroll(mediator)

    checker = login(phone.browser.new_context(viewport={"width": 360, "height": 740},
                                              locale="zh-CN").new_page(), "secretary")  # fmt: skip
    checker.goto(url)
    act(checker, "verify", {"note": "回访当事人，工资尚未支付"}, choose="不属实：退回承办人")
    expect(checker.get_by_test_id("status")).to_have_text("调解中")
    failed = checker.locator("#timeline li[data-event=verify_failed]")
    expect(failed).to_contain_text("工资尚未支付")

    mediator.reload()
    act(mediator, "resolve", {"note": "已当场付清"}, select=AGREED)
    expect(mediator.get_by_test_id("status")).to_have_text("已化解")
    checker.reload()
    act(checker, "verify", {"note": "电话回访，已付清"}, choose="属实：按已化解结案")
    expect(checker.get_by_test_id("status")).to_have_text("已办结")
    case = Case.objects.get(pk=in_mediation.pk)
    assert (case.status, case.close_kind) == (CaseStatus.CLOSED, CloseKind.SUBSTANTIVE)


def test_the_street_supervises_and_the_community_answers(desktop, phone, login, server_url,
                                                        in_mediation):  # fmt: skip
    url = f"{server_url}/cases/{in_mediation.pk}/"
    street = login(desktop.new_page(), "street")
    street.goto(url)
    act(street, "supervise", {"note": "请三日内调处完毕并反馈", "reply_within_days": "3"})
    expect(street.get_by_test_id("cards")).to_contain_text("上级督办")

    secretary = login(phone.new_page(), "secretary")
    secretary.goto(f"{server_url}/cases/supervision/")
    expect(secretary.locator("#cards")).to_contain_text(in_mediation.number)
    secretary.locator("#cards a").first.click()
    act(secretary, "answer_card", {"reply": "已约定周五再次调解"})
    expect(secretary.get_by_test_id("card-state")).to_contain_text("已约定周五再次调解")
    assert_no_horizontal_scroll(secretary)
    assert SupervisionCard.objects.get().replied_by.username == "secretary"

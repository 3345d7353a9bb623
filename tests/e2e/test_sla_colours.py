"""The "13710" colours as users see them, in Chinese: a dispute still unassigned 25 hours after
filing is orange "未按时分配", one open 31 days after filing is red "超过办结期限", in the list
and on the case page, computed from the clock (no sweep has run). And the inbox on a phone."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from disputes import services
from disputes.models import Case, CaseEvent, Category, Channel
from grids.models import Area, User
from notifications.models import Notification
from notifications.services import notify
from sla.models import SlaCheck
from tests.e2e.helpers import assert_no_horizontal_scroll, screenshot

pytestmark = pytest.mark.e2e


def zh(msgid: str) -> str:
    """The page's text for a msgid, whether or not it has been translated yet."""
    with translation.override("zh-hans"):
        return translation.gettext(msgid)


def filed_ago(cause: str, age: timedelta) -> Case:
    """File through the service now, then move the case's time points back by `age`, as if
    it had been filed then. (The demo people only hold their posts from today, so the filing
    itself cannot be made in the past.) No sweep runs: the colour comes from the clock."""
    case = services.case_file(
        actor=User.objects.get(username="gridworker"),
        area=Area.objects.get(code="500103001001G01"),
        category=Category.objects.get(code="0203"),  # a leak: handled by the community
        cause=cause,
        address="民生路12号3单元502",
        channel=Channel.GRID_WORKER,
        parties=[{"side": "applicant", "name": "李秀英", "phone": "13912345678"}],
    )
    Case.objects.filter(pk=case.pk).update(
        filed_at=case.filed_at - age,
        assign_due_at=case.assign_due_at - age,
        close_due_at=case.close_due_at - age,
    )
    SlaCheck.objects.filter(case=case).update(next_check_at=case.sla_check.next_check_at - age)
    CaseEvent.objects.filter(case=case).update(at=case.filed_at - age)
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def overdue(seeded):
    return {
        "orange": filed_ago("楼上卫生间漏水至楼下（已登记25小时）", timedelta(hours=25)),
        "red": filed_ago("外墙渗水纠纷（已登记31天）", timedelta(days=31)),
        "green": filed_ago("阳台漏水（刚登记）", timedelta(minutes=5)),
    }


def test_it_colours_overdue_cases_in_the_list_and_on_their_pages(
    overdue, desktop, login, server_url
):
    page = login(desktop.new_page(), "secretary")
    page.goto(f"{server_url}/cases/")

    orange = page.locator(f"#case-list [data-case='{overdue['orange'].number}']")
    expect(orange.locator("[data-sla]")).to_have_attribute("data-sla", "orange")
    expect(orange.locator("[data-sla]")).to_have_text("橙色")
    expect(orange.locator("[data-testid=sla-reasons]")).to_have_text("未按时分配")

    red = page.locator(f"#case-list [data-case='{overdue['red'].number}']")
    expect(red.locator("[data-sla]")).to_have_attribute("data-sla", "red")
    expect(red.locator("[data-sla]")).to_have_text("红色")
    # Red first; it was not assigned on time either.
    expect(red.locator("[data-testid=sla-reasons]")).to_have_text("超过办结期限、未按时分配")

    green = page.locator(f"#case-list [data-case='{overdue['green'].number}']")
    expect(green.locator("[data-sla]")).to_have_text("绿色")
    expect(green.locator("[data-testid=sla-reasons]")).to_have_count(0)
    screenshot(page, "list-colours")

    # Filter to the red ones, the worst first.
    page.locator("#id_colour").select_option("red")
    page.locator("#id_sort").select_option("sla")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"colour=red"))
    expect(page.locator("#case-list [data-case]")).to_have_count(1)
    expect(page.locator("#case-list")).to_contain_text("超过办结期限")

    page.goto(f"{server_url}/cases/{overdue['orange'].pk}/")
    panel = page.locator("#case-panel")
    expect(panel.locator("[data-sla]").first).to_have_text("橙色")
    expect(panel.locator("[data-testid=sla-reasons]")).to_have_text("未按时分配")
    assign_by = timezone.localtime(overdue["orange"].assign_due_at).strftime("%Y-%m-%d %H:%M")
    expect(panel.locator("[data-testid=assign-due]")).to_contain_text(assign_by)

    page.goto(f"{server_url}/cases/{overdue['red'].pk}/")
    expect(page.locator("#case-panel [data-sla]").first).to_have_text("红色")
    expect(page.locator("#case-panel [data-testid=sla-reasons]")).to_contain_text("超过办结期限")
    close_by = timezone.localtime(overdue["red"].close_due_at).strftime("%Y-%m-%d %H:%M")
    expect(page.locator("[data-testid=close-due]")).to_contain_text(close_by)
    screenshot(page, "case-red")


def test_it_escalates_an_overdue_case_from_a_phone(overdue, phone, login, server_url):
    page = login(phone.new_page(), "secretary")
    page.goto(f"{server_url}/cases/{overdue['orange'].pk}/")
    assert_no_horizontal_scroll(page)
    page.evaluate("window.__sameDocument = true")

    escalate = page.locator("details[data-action=escalate]")
    escalate.locator("summary").click()
    escalate.locator("textarea[name='escalate-reason']").fill("社区多次协调不成，提请街道处理")
    escalate.locator("button[type=submit]").click()

    expect(page.locator("#timeline li[data-event=escalated]")).to_contain_text("解放碑街道")
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"
    assert_no_horizontal_scroll(page)
    case = Case.objects.get(pk=overdue["orange"].pk)
    assert case.handling_area.name == "解放碑街道"
    # A new assignment deadline at the street: the case is green again, until that passes.
    expect(page.locator("#case-panel [data-sla]").first).to_have_text("绿色")


def test_it_shows_and_clears_the_inbox_on_a_phone(overdue, phone, login, open_nav, server_url):
    secretary = User.objects.get(username="secretary")
    # Arranging the cases told people (hand-offs: test_handoffs.py); this test counts its own.
    Notification.objects.all().delete()
    for case in (overdue["red"], overdue["orange"], overdue["green"]):
        notify(users=[secretary], case=case, kind="sla_not_assigned",
               title=f"未按时分配：{case.number}", body=case.cause)  # fmt: skip

    page = login(phone.new_page(), "secretary")
    # The badge sits in the header, visible without opening the menu.
    badge = page.locator("nav.navbar [data-testid=unread-count]")
    expect(badge).to_be_visible()
    expect(badge).to_contain_text("3")

    open_nav(page, zh("Messages"))
    expect(page).to_have_url(f"{server_url}/notifications/")
    items = page.locator("#notifications li[data-notification]")
    expect(items).to_have_count(3)
    # Newest first, each a link to its case.
    expect(items.first).to_contain_text(overdue["green"].number)
    assert_no_horizontal_scroll(page)
    screenshot(page, "inbox-360")

    page.evaluate("window.__sameDocument = true")
    items.first.locator("[data-testid=mark-read]").click()
    expect(items.first).to_have_attribute("data-read", "1")
    expect(badge).to_contain_text("2")
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"

    page.locator("[data-testid=read-all]").click()
    expect(page.locator("#notifications li[data-read='0']")).to_have_count(0)
    expect(badge).to_have_count(0)
    assert_no_horizontal_scroll(page)

    items.nth(1).get_by_role("link").click()
    expect(page).to_have_url(f"{server_url}/cases/{overdue['orange'].pk}/")


@pytest.fixture
def red_in_mediation(overdue):
    """The red case, assigned to the community mediator and handled: a case that needs more
    time rather than a case nobody took up."""
    case = services.case_assign(case=overdue["red"], mediator=User.objects.get(username="mediator"),
                                actor=User.objects.get(username="secretary"))  # fmt: skip
    return services.case_progress(case=case, actor=User.objects.get(username="mediator"),
                                  note="已组织双方现场查看渗水点")  # fmt: skip


def test_it_asks_for_more_time_from_a_phone_and_the_street_grants_it(
    red_in_mediation, phone, desktop, login, server_url
):
    """The mediator asks for 15 more days from the phone; the street centre, told in its
    inbox, approves on the case page; the case turns green with the missed deadline still on
    record, and the mediator is told."""
    case = red_in_mediation
    page = login(phone.new_page(), "mediator")
    page.goto(f"{server_url}/cases/{case.pk}/")
    expect(page.locator("#case-panel [data-sla]").first).to_have_text("红色")
    page.evaluate("window.__sameDocument = true")
    ask = page.locator("details[data-action=request_extension]")
    ask.locator("summary").click()
    ask.locator("input[name='request_extension-days']").fill("15")
    ask.locator("textarea[name='request_extension-reason']").fill("等待房屋渗水鉴定报告")
    ask.locator("button[type=submit]").click()
    expect(page.locator("#timeline li[data-event=extension_requested]")).to_contain_text(
        "等待房屋渗水鉴定报告"
    )
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"
    assert_no_horizontal_scroll(page)

    street = login(desktop.new_page(), "street")
    street.goto(f"{server_url}/notifications/")
    told = street.locator("#notifications li[data-notification]").first
    expect(told).to_contain_text(f"申请延期 15 天：{case.number}")
    told.get_by_role("link").first.click()
    expect(street).to_have_url(f"{server_url}/cases/{case.pk}/")
    decide = street.locator("details[data-action=decide_extension]")
    decide.locator("summary").click()
    expect(decide).to_contain_text("等待房屋渗水鉴定报告")
    decide.locator("select[name='decide_extension-decision']").select_option("approve")
    decide.locator("textarea[name='decide_extension-note']").fill("同意延期15天")
    decide.locator("button[type=submit]").click()

    expect(street.locator("#timeline li[data-event=extension_approved]")).to_contain_text(
        "同意延期15天"
    )
    expect(street.locator("#case-panel [data-sla]").first).to_have_text("绿色")
    # No sweep ran while the deadlines passed: granting the time recorded them first (the
    # late assignment as well), each once.
    breaches = street.locator("#timeline li[data-event=sla_breach]")
    expect(breaches.filter(has_text="超过办结期限")).to_have_count(1)
    expect(breaches.filter(has_text="未按时分配")).to_have_count(1)
    case.refresh_from_db()
    new_due = timezone.localtime(case.close_due_at).strftime("%Y-%m-%d %H:%M")
    expect(street.locator("[data-testid=close-due]")).to_contain_text(new_due)

    page.goto(f"{server_url}/notifications/")
    expect(page.locator("#notifications li[data-notification]").first).to_contain_text(
        f"延期已批准：{case.number}"
    )
    # Unread: the approval, and the hand-off that gave the mediator this case.
    expect(page.locator("nav.navbar [data-testid=unread-count]")).to_contain_text("2")


def test_it_issues_an_order_to_a_department_and_the_liaison_sees_it_on_a_phone(
    overdue, phone, desktop, login, server_url
):
    """发令: the street centre dispatches a case to the district's labour bureau; its liaison
    finds the order in the inbox and the case in their list, on a phone."""
    case = overdue["orange"]
    street = login(desktop.new_page(), "street")
    street.goto(f"{server_url}/cases/{case.pk}/")
    dispatch = street.locator("details[data-action=dispatch]")
    dispatch.locator("summary").click()
    dispatch.locator("select[name='dispatch-department']").select_option(
        label="区人力资源和社会保障局"
    )
    dispatch.locator("textarea[name='dispatch-note']").fill("请于三日内核查欠薪情况")
    dispatch.locator("button[type=submit]").click()
    expect(street.locator("#timeline li[data-event=dispatched]")).to_contain_text(
        "区人力资源和社会保障局"
    )

    page = login(phone.new_page(), "labour")
    expect(page.locator("nav.navbar [data-testid=unread-count]")).to_contain_text("1")
    page.goto(f"{server_url}/notifications/")
    order = page.locator("#notifications li[data-notification]").first
    expect(order).to_contain_text(case.number)
    assert_no_horizontal_scroll(page)
    page.goto(f"{server_url}/cases/")
    expect(page.get_by_text(case.cause)).to_be_visible()
    page.get_by_text(case.cause).click()
    expect(page.locator("#timeline li[data-event=dispatched]")).to_contain_text(
        "请于三日内核查欠薪情况"
    )
    assert_no_horizontal_scroll(page)


def test_it_shows_the_sweep_health_and_its_backlog_to_an_operator_on_a_phone(
    overdue, phone, login, server_url
):
    """No sweep has run: the two overdue cases wait, so the lag is over a day (the red one's
    deadline passed a day ago); a sweep clears it and records both breaches."""
    from disputes.sweep import sla_sweep_step

    page = login(phone.new_page(), "admin")  # an operator (Django staff) page
    page.goto(f"{server_url}/sla/health/")
    lag = page.locator("[data-testid=sweep-lag]")
    assert int(lag.get_attribute("data-seconds")) > 86400
    expect(page.locator("[data-testid=open-red]")).to_have_text("1")
    expect(page.locator("[data-testid=open-orange]")).to_have_text("1")
    assert_no_horizontal_scroll(page)

    assert sla_sweep_step().breaches == 3  # red: past closing and not assigned; orange
    page.reload()
    expect(lag).to_have_attribute("data-seconds", "0")
    expect(page.locator("[data-testid=breaches-last-hour]")).to_have_text("3")
    page.locator("[data-testid=open-red]").click()
    expect(page.get_by_text(overdue["red"].cause)).to_be_visible()

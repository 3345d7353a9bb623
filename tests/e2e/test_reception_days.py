"""A reception day on the demo lawyer's phone (Chromium, Chinese, 360 px): today's session
at 民生路社区, two residents recorded in place, one converted into a dispute case, the
session marked held, and the community's report card counting it."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from disputes.models import Case, Channel
from grids.models import Area
from reception_days import selectors
from reception_days.demo import seed as seed_reception_days
from reception_days.models import ReceptionSession, SessionKind, SessionStatus, Visit
from tests.e2e.helpers import assert_no_horizontal_scroll, screenshot

pytestmark = pytest.mark.e2e


def card_now(community):
    first, last = selectors_month()
    return selectors.report_card(area=community, date_from=first, date_to=last).total


def selectors_month():
    from reception_days.forms import month_bounds

    return month_bounds(timezone.localdate())


def test_it_runs_a_reception_day_on_the_lawyers_phone(phone, login, open_nav):
    seed_reception_days()
    community = Area.objects.get(name="民生路社区")
    session = ReceptionSession.objects.get(
        community=community, kind=SessionKind.THEMATIC, date=timezone.localdate()
    )
    before = card_now(community)

    page = login(phone.new_page(), "lawyer")
    open_nav(page, "我的接待日")
    # open_nav returns once the click is made; a loaded machine may take a while to answer.
    page.wait_for_url(re.compile(r"/reception-days/mine/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("我的接待日")
    today = page.locator(f"#upcoming [data-session='{session.pk}']")
    expect(today).to_contain_text("反诈宣传进社区")
    expect(today).to_contain_text("今天")
    assert_no_horizontal_scroll(page)
    screenshot(page, "reception-mine-360")
    today.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("反诈宣传进社区")
    expect(page.locator("#staff [data-staff='马律师']")).to_contain_text("律师")
    page.evaluate("window.__sameDocument = true")

    # First resident: a question answered on the spot.
    page.locator("#id_resident_name").fill("王大爷")
    page.locator("#id_issue").fill("接到自称公检法的电话要求转账")
    page.locator("[data-testid=services] label", has_text="普法宣传").click()
    page.get_by_role("button", name="登记来访").click()
    first = page.locator("#visit-list [data-visit='王大爷']")
    expect(first).to_contain_text("当场答复")
    expect(first).to_contain_text("普法宣传")
    expect(page.locator("#id_resident_name")).to_have_value("")
    expect(page.locator("#visit-count")).to_have_text("1")

    # Second resident: a leak between neighbours, converted into a dispute case.
    page.locator("#id_resident_name").fill("陈女士")
    page.locator("#id_resident_phone").fill("13900002222")
    page.locator("#id_issue").fill("楼上住户装修后卫生间漏水到我家")
    page.locator("[data-testid=services] label", has_text="风险排查").click()
    page.locator("#id_is_dispute").check()
    page.get_by_role("button", name="登记来访").click()
    second = page.locator("#visit-list [data-visit='陈女士']")
    expect(second).to_be_visible()
    expect(page.locator("#visit-count")).to_have_text("2")
    assert_no_horizontal_scroll(page)
    screenshot(page, "reception-visits-360")

    convert = second.locator("details[data-action=convert]")
    convert.locator("summary").click()
    expect(convert.locator("summary")).to_have_text("转为纠纷案件")
    convert.locator("select[name$='-category']").select_option(label="房屋漏水")
    expect(convert.locator("select[name$='-grid'] option:checked")).to_have_text(
        "民生路社区第1网格（网格）"
    )
    convert.get_by_role("button", name="立案").click()
    linked = page.locator("#visit-list [data-visit='陈女士'] [data-testid=visit-case]")
    expect(linked).to_contain_text(re.compile(r"JF\d{4}-\d{6}"))
    expect(
        page.locator("#visit-list [data-visit='陈女士'] [data-testid=visit-outcome]")
    ).to_have_text("转为纠纷案件")
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"

    visit = Visit.objects.get(session=session, resident_name="陈女士")
    case = Case.objects.get(reception_visits=visit)
    assert (case.channel, case.area.name, case.filed_by.username) == (
        Channel.RECEPTION_DAY, "民生路社区第1网格", "lawyer",
    )  # fmt: skip
    assert visit.case_id == case.pk and case.reception_visits.count() == 1
    expect(linked).to_contain_text(case.number)

    # Marking the session held: the lawyer is ticked already; the judge came too.
    hold = page.locator("details[data-action=hold]")
    hold.locator("summary").click()
    expect(hold.get_by_label("马律师（律师）")).to_be_checked()
    hold.get_by_label("郑法官（法官）").check()
    with page.expect_navigation():  # an ordinary post: back to the same page, reloaded
        hold.get_by_role("button", name="标记已举办").click()
    expect(page.locator("[data-testid=session-status]")).to_have_text("已举办")
    expect(page.locator("#staff [data-staff='郑法官'] [data-attended=yes]")).to_be_visible()
    assert ReceptionSession.objects.get(pk=session.pk).status == SessionStatus.HELD
    assert_no_horizontal_scroll(page)

    # The community's report card counts it.
    open_nav(page, "接待日成效")
    page.wait_for_url(re.compile(r"/reception-days/report-card/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("接待日成效")
    expect(page.locator("[data-testid=card-area]")).to_have_text("民生路社区")
    after = card_now(community)
    assert (after.sessions_held, after.attendances) == (
        before.sessions_held + 1, before.attendances + 2,
    )  # fmt: skip
    assert (after.residents_received, after.issues_raised, after.converted) == (
        before.residents_received + 2, before.issues_raised + 2, before.converted + 1,
    )  # fmt: skip
    for key in ("sessions_held", "attendances", "residents_received", "issues_raised",
                "disputes_screened", "converted"):  # fmt: skip
        expect(page.locator(f"[data-figure={key}]")).to_have_text(str(getattr(after, key)))
    expect(page.locator("[data-figure=resolution_rate]")).to_have_text(
        f"{after.resolution_rate:.2f}%"
    )
    assert_no_horizontal_scroll(page)
    screenshot(page, "reception-report-card-360")


def test_it_posts_the_communitys_next_sessions_for_anyone(phone, server_url):
    seed_reception_days()
    page = phone.new_page()  # nobody logged in
    page.goto(f"{server_url}/reception-days/public/500103001001/")
    expect(page.get_by_role("heading", level=1)).to_have_text("民生路社区网格接待日")
    today = page.locator("#public-sessions [data-session]", has_text="反诈宣传进社区")
    expect(today).to_contain_text("马律师（律师）")
    expect(today).to_contain_text("何消防（消防专干）")
    expect(page.get_by_role("img", name="本页二维码")).to_be_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, "reception-public-360")

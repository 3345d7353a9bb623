"""Mediation on the mediator's phone (Chromium, Chinese, 360 px): a session scheduled and
recorded on the spot, the agreement filled in, both parties and the mediator signing with a
finger on the screen, and the signed PDF produced by the worker, opened, and read back with
pdftotext: the parties' Chinese names, the obligations and the agreement's number."""

import subprocess
import tempfile
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from disputes import services as case_services
from grids.models import User
from mediation.models import Agreement, MediationSession
from tests.e2e.helpers import assert_no_horizontal_scroll, screenshot

pytestmark = pytest.mark.e2e


def pdf_text(data: bytes) -> str:
    """The PDF's text with pdftotext, without the line breaks and spaces of its layout (a
    long obligation wraps onto a second line)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(data)
        handle.flush()
        return (
            subprocess.run(
                ["pdftotext", handle.name, "-"], capture_output=True, check=True, text=True
            )
            .stdout.replace(" ", "")
            .replace("\n", "")
        )


def draw_signature(page):
    canvas = page.locator("[data-signature-pad]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, y = box["x"], box["y"]
    page.mouse.move(x + 20, y + 120)
    page.mouse.down()
    for dx, dy in ((60, 40), (110, 140), (170, 60), (230, 130), (290, 70)):
        page.mouse.move(x + dx, y + dy, steps=5)
    page.mouse.up()


def test_the_mediator_runs_a_mediation_and_everyone_signs_on_the_phone(
    phone, login, wage_case, celery_eager, server_url
):
    mediator = User.objects.get(username="mediator")
    case_services.case_assign(
        case=wage_case, mediator=mediator, actor=User.objects.get(username="secretary")
    )
    page = login(phone.new_page(), "mediator")

    # From the case page's 调解 section to the mediation page.
    page.goto(f"{server_url}/cases/{wage_case.pk}/")
    section = page.locator("#mediation-section")
    expect(section).to_contain_text("尚未安排调解")
    section.get_by_role("link", name="调解会议与协议").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("调解")
    assert_no_horizontal_scroll(page)

    # Schedule a session for tomorrow morning in the community's mediation room.
    page.get_by_role("link", name="安排调解").click()
    starts = (timezone.localtime() + timedelta(days=1)).replace(hour=9, minute=30)
    page.locator("#id_starts_at").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#id_place").fill("民生路社区人民调解室")
    expect(page.locator("input[name=mediators]:checked")).to_have_count(1)
    assert_no_horizontal_scroll(page)
    screenshot(page, "mediation-schedule-360")
    page.get_by_role("button", name="安排").click()
    expect(page.get_by_test_id("session-status")).to_have_text("待举行")
    session = MediationSession.objects.get(case=wage_case)

    # The record, typed on the spot, with who came.
    for label in ("李大山", "重庆某某建筑劳务有限公司"):
        page.get_by_label(label).check()
    page.locator("#id_record").fill(
        "调解员：请双方陈述。\n李大山：工地拖欠工资三个月。\n公司：同意分两期支付。"
    )
    page.get_by_role("button", name="保存笔录").click()
    expect(page.get_by_test_id("session-status")).to_have_text("已举办")
    session.refresh_from_db()
    assert session.record.startswith("调解员：请双方陈述。")
    assert_no_horizontal_scroll(page)

    # The agreement: facts, items, two obligations (the second row added on the phone).
    page.goto(f"{server_url}/mediation/cases/{wage_case.pk}/")
    page.get_by_role("link", name="填写调解协议").click()
    page.locator("#id_facts").fill("某工地拖欠李大山等12名农民工2026年8月至10月工资。")
    page.locator("#id_disputed_items").fill("拖欠工资的数额和支付时间。")
    due = timezone.localdate() + timedelta(days=15)
    page.locator("#id_ob-0-party").select_option(label="重庆某某建筑劳务有限公司")
    page.locator("#id_ob-0-description").fill("支付拖欠工资第一期")
    page.locator("#id_ob-0-amount").fill("36000")
    page.locator("#id_ob-0-due_on").fill(due.isoformat())
    page.locator("#id_ob-0-manner").fill("银行转账")
    page.get_by_role("button", name="添加一项履行事项").click()
    page.locator("#id_ob-1-party").select_option(label="李大山")
    page.locator("#id_ob-1-description").fill("出具收款确认书")
    page.locator("#id_ob-1-due_on").fill(due.isoformat())
    assert_no_horizontal_scroll(page)
    screenshot(page, "mediation-agreement-360")
    page.get_by_role("button", name="保存调解协议").click()
    agreement = Agreement.objects.get(case=wage_case)
    expect(page.get_by_test_id("agreement-number")).to_have_text(agreement.number)

    # Each party, then the mediator, signs with a finger on the same phone.
    page.get_by_test_id("sign-link").click()
    for signer in ("李大山", "重庆某某建筑劳务有限公司", "赵调解"):
        page.locator("#id_signer").select_option(label=signer)
        draw_signature(page)
        assert_no_horizontal_scroll(page)
        page.get_by_role("button", name="确认签名").click()
        expect(page.locator("[data-signed=yes]")).to_have_count(
            {"李大山": 1, "重庆某某建筑劳务有限公司": 2}.get(signer, 3)
        )
    expect(page.get_by_test_id("all-signed")).to_be_visible()
    screenshot(page, "mediation-signed-360")

    # The signed PDF: the page waits for the worker, then offers the file, which opens.
    page.get_by_role("link", name="返回调解协议").click()
    expect(page.get_by_test_id("agreement-status")).to_have_text("已签署")
    expect(page.locator("#agreement img.signature-thumb")).to_have_count(3)
    assert_no_horizontal_scroll(page)
    screenshot(page, "mediation-overview-signed-360")
    page.get_by_test_id("signed-pdf").click()
    status = page.get_by_test_id("document-status")
    expect(status).to_have_attribute("data-status", "ready", timeout=30_000)
    link = page.get_by_test_id("open-pdf")
    response = page.request.get(server_url + link.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.body())
    for expected in (
        "李大山",
        "重庆某某建筑劳务有限公司",
        "支付拖欠工资第一期",
        "36000.00",
        "出具收款确认书",
        "银行转账",
        agreement.number,
    ):
        assert expected in text, expected
    agreement.refresh_from_db()
    assert agreement.status == "signed" and len(agreement.sha256) == 64
    assert_no_horizontal_scroll(page)

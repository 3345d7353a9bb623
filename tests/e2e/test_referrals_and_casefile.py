"""Linkage referrals and the archived file, in Chinese at phone width (360 px): the mediator
records an outgoing court referral (诉调) from the case page and then the court's result;
once the community secretary's check closes a case, its mediation file (卷宗) is archived
and downloaded from the case page, and its text holds the case and archive numbers."""

import io
import subprocess

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from casefiles.models import CaseFileArchive
from disputes import services
from disputes.models import Case, CaseEvent
from grids.models import User
from referrals.models import Referral
from sla.models import SlaPolicy, VerifyBy
from tests.e2e.helpers import assert_no_horizontal_scroll

pytestmark = pytest.mark.e2e


def test_an_outgoing_court_referral_and_its_result_on_a_phone(phone, login, server_url, wage_case):
    page = login(phone.new_page(), "mediator")
    page.goto(f"{server_url}/cases/{wage_case.pk}/")
    section = page.locator("#referrals-section")
    expect(section).to_contain_text("联动调解")
    assert_no_horizontal_scroll(page)
    section.get_by_test_id("referral-new").click()

    form = page.locator("#referral-form")
    form.locator("[name=direction]").select_option("out")
    form.locator("[name=kind]").select_option("court")
    form.locator("[name=partner]").fill("渝中区人民法院")
    form.locator("[name=partner_case_number]").fill("(2026)渝0103民诉前调88号")
    form.locator("[name=note]").fill("当事人同意诉前调解，移送法院")
    assert_no_horizontal_scroll(page)
    form.locator("button[type=submit]").click()

    expect(page.get_by_test_id("partner")).to_have_text("渝中区人民法院")
    expect(page.get_by_test_id("partner-number")).to_have_text("(2026)渝0103民诉前调88号")
    expect(page.get_by_test_id("referral-status")).to_contain_text("待反馈")
    assert_no_horizontal_scroll(page)

    result = page.locator("details[data-action=result]")
    result.locator("[name=result]").select_option("agreement")
    result.locator("[name=note]").fill("法院出具调解书，双方已签收")
    result.locator("button[type=submit]").click()
    expect(page.get_by_test_id("result")).to_contain_text("达成协议")
    expect(page.get_by_test_id("referral-status")).to_contain_text("达成协议")
    assert_no_horizontal_scroll(page)

    referral = Referral.objects.get(case=wage_case)
    assert (referral.kind, referral.direction, referral.status) == ("court", "out", "finished")
    kinds = set(wage_case.events.values_list("kind", flat=True))
    assert {CaseEvent.Kind.LINKAGE_OUT, CaseEvent.Kind.LINKAGE_RESULT} <= kinds
    page.goto(f"{server_url}/cases/{wage_case.pk}/")
    expect(page.locator("#referrals-section")).to_contain_text("渝中区人民法院")


@pytest.fixture
def resolved(wage_case) -> Case:
    secretary = User.objects.get(username="secretary")
    mediator = User.objects.get(username="mediator")
    # The browser tests' database holds no policies: this one asks for the check, as the
    # shipped default does (someone other than the resolver closes).
    policy = SlaPolicy.objects.create(code="checked", name="核查", verify_by=VerifyBy.UNIT)
    Case.objects.filter(pk=wage_case.pk).update(sla_policy=policy)
    wage_case.refresh_from_db()
    case = services.case_assign(case=wage_case, mediator=mediator, actor=secretary)
    case = services.case_progress(case=case, actor=mediator, note="已约双方到社区调解")
    return services.case_resolve(case=case, actor=mediator, outcome="agreement", note="已签协议")


def test_the_archived_file_is_downloaded_after_close(phone, login, server_url, resolved,
                                                     celery_eager, tmp_path):  # fmt: skip
    url = f"{server_url}/cases/{resolved.pk}/"
    page = login(phone.new_page(), "secretary")
    page.goto(url)
    box = page.locator("details[data-action=verify]")
    box.locator("summary").click()
    box.get_by_label("属实：按已化解结案").check()
    box.locator("[name='verify-note']").fill("电话回访，工资已付清")
    box.locator("button[type=submit]").click()
    expect(page.get_by_test_id("status")).to_have_text("已办结")

    page.goto(url)  # the file section is drawn with the page
    section = page.locator("#casefile-section")
    expect(section.locator("[data-status=ready]")).to_be_visible()
    assert_no_horizontal_scroll(page)
    with page.expect_download() as download:
        section.get_by_test_id("casefile-download").click()
    path = tmp_path / "file.pdf"
    download.value.save_as(path)
    data = path.read_bytes()

    archive = CaseFileArchive.objects.get(case=resolved)
    assert len(PdfReader(io.BytesIO(data)).pages) == archive.pages
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True).stdout
    text = text.decode().replace(" ", "")
    assert resolved.number in text and archive.number in text
    assert "受理登记表" in text and "卷内目录" in text
    # The secretary runs the case's queue: the full copy, phone numbers included.
    assert "13912345678" in text

    page.goto(f"{server_url}/casefiles/case/{resolved.pk}/")
    expect(page.locator(f"[data-archive='{archive.pk}']")).to_contain_text(archive.number)
    assert_no_horizontal_scroll(page)

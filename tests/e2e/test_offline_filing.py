"""Filing with no signal: the app installs, the filing page opens offline, filings and
progress notes made offline wait on the phone (photos included) and are sent by themselves,
each once, when the network returns; drafts survive closing the page; a filing the server
refuses comes back to the worker to fix."""

import gzip
import json
import re

from django.urls import reverse
from playwright.sync_api import expect

from disputes.models import Case, CaseEvent, Category
from tests.e2e.helpers import assert_no_horizontal_scroll
from tests.e2e.test_filing_on_a_phone import camera_photo


def wait_for(page, script: str, seconds: float = 10):
    """Polls a script from the test (page.wait_for_function evaluates a string, which the
    page's Content-Security-Policy forbids)."""
    for _ in range(int(seconds * 10)):
        if page.evaluate(script):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never true: {script}")


def wait_until_cached(page, url):
    wait_for(page, f"() => caches.match({json.dumps(url)}).then(Boolean)")


def wait_until_offline_ready(page, server_url):
    """The service worker controls the page and holds the filing page for offline use."""
    wait_for(page, "() => Boolean(navigator.serviceWorker && navigator.serviceWorker.controller)")
    wait_until_cached(page, server_url + reverse("disputes:file"))
    return page


def open_filing_page(phone, login, server_url):
    page = login(phone.new_page(), "gridworker")
    page.goto(server_url + reverse("disputes:file"))
    # The first visit installs the worker; the second is served through it.
    wait_until_offline_ready(page, server_url)
    page.reload()
    return page


def file_offline(page, cause, photo):
    page.locator("#id_category").select_option(label="拖欠工资")
    page.locator("#id_cause").fill(cause)
    page.locator("#id_address").fill("民生路12号2单元楼道")
    page.locator("#id_parties-0-name").fill("李大山")
    page.locator("#id_parties-1-name").fill("王小明")
    page.locator("#id_photos").set_input_files(photo)
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.get_by_test_id("offline-note")).to_contain_text("没有网络")
    # The form is ready for the next dispute.
    expect(page.locator("#id_cause")).to_have_value("")


def test_two_disputes_filed_offline_are_uploaded_once_each_with_their_photos(
    phone, login, server_url, tmp_path
):
    page = open_filing_page(phone, login, server_url)
    keys_before = page.locator("[name=filing_key]").input_value()
    phone.set_offline(True)

    file_offline(page, "楼道堆物引发邻里纠纷", camera_photo(tmp_path, "一号.jpg"))
    file_offline(page, "楼上漏水引发纠纷", camera_photo(tmp_path, "二号.jpg"))

    outbox = page.get_by_test_id("offline-outbox")
    expect(outbox.locator("[data-outbox-item]")).to_have_count(2)
    expect(outbox).to_contain_text("楼道堆物引发邻里纠纷")
    expect(outbox.locator("[data-outbox-state=waiting]")).to_have_count(2)
    expect(page.get_by_test_id("outbox-badge")).to_contain_text("2")
    assert page.locator("[name=filing_key]").input_value() != keys_before
    assert_no_horizontal_scroll(page)

    # Still no signal: the page comes from the phone, and so do the two waiting filings.
    page.reload()
    expect(page.get_by_role("heading", name="登记纠纷")).to_be_visible()
    expect(page.get_by_test_id("offline-outbox").locator("[data-outbox-item]")).to_have_count(2)
    assert not Case.objects.exists()

    phone.set_offline(False)

    expect(page.get_by_test_id("offline-outbox")).to_be_hidden(timeout=20_000)
    expect(page.get_by_test_id("offline-note")).to_contain_text("已上传")
    expect(page.get_by_test_id("outbox-badge")).to_be_hidden()
    cases = {c.cause: c for c in Case.objects.all()}
    assert sorted(cases) == ["楼上漏水引发纠纷", "楼道堆物引发邻里纠纷"]
    photos = {cause: [a.original_name for a in c.attachments.all()] for cause, c in cases.items()}
    assert photos == {"楼道堆物引发邻里纠纷": ["一号.jpg"], "楼上漏水引发纠纷": ["二号.jpg"]}

    # Opening the app again sends nothing twice.
    page.reload()
    expect(page.get_by_role("heading", name="登记纠纷")).to_be_visible()
    page.wait_for_timeout(500)
    assert Case.objects.count() == 2


def test_the_app_installs_and_opens_the_filing_page_from_the_home_screen_offline(
    phone, login, server_url
):
    page = open_filing_page(phone, login, server_url)
    href = page.locator("link[rel=manifest]").get_attribute("href")
    manifest = page.evaluate(f"fetch({json.dumps(href)}).then(r => r.json())")
    assert manifest["name"] == "网格化矛盾纠纷调处"
    assert manifest["display"] == "standalone"
    assert manifest["start_url"].startswith(reverse("disputes:file"))
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        width = page.evaluate(
            "src => new Promise(ok => { const i = new Image(); i.onload = () => ok(i.naturalWidth);"
            " i.onerror = () => ok(0); i.src = src; })",
            icon["src"],
        )
        assert f"{width}x{width}" == icon["sizes"]
    registration = page.evaluate(
        "navigator.serviceWorker.getRegistration().then(r => r && r.active && r.scope)"
    )
    assert registration == server_url + "/"

    phone.set_offline(True)
    page.goto(server_url + manifest["start_url"])
    expect(page.get_by_role("heading", name="登记纠纷")).to_be_visible()
    expect(page.locator("#id_category")).to_contain_text("拖欠工资")
    expect(page.locator("#id_area")).to_contain_text("第1网格")


def test_a_draft_survives_closing_the_page(phone, login, server_url, tmp_path):
    page = open_filing_page(phone, login, server_url)
    page.locator("#id_cause").fill("占用消防通道")
    page.locator("#id_address").fill("民生路12号")
    page.get_by_role("button", name="＋ 添加当事人").click()
    page.locator("#id_parties-2-name").fill("赵六")
    page.locator("#id_photos").set_input_files(camera_photo(tmp_path, "通道.jpg"))
    page.wait_for_timeout(800)  # the draft is kept 0.4 s after the last keystroke
    page.close()

    page = phone.new_page()
    page.goto(server_url + reverse("disputes:file"))

    expect(page.get_by_test_id("draft-note")).to_be_visible()
    expect(page.locator("#id_cause")).to_have_value("占用消防通道")
    expect(page.locator("#id_parties-2-name")).to_have_value("赵六")
    assert page.evaluate("document.getElementById('id_photos').files[0].name") == "通道.jpg"
    page.locator("#id_category").select_option(label="拖欠工资")
    page.locator("#id_parties-0-name").fill("李大山")
    page.locator("#id_parties-1-name").fill("王小明")
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    case = Case.objects.get()
    assert case.cause == "占用消防通道"
    assert case.parties.filter(name="赵六").exists()
    assert case.attachments.get().original_name == "通道.jpg"

    # Filed: the draft is gone.
    page.goto(server_url + reverse("disputes:file"))
    expect(page.locator("#id_cause")).to_have_value("")
    expect(page.get_by_test_id("draft-note")).to_be_hidden()


def test_a_filing_refused_on_upload_comes_back_to_be_fixed(phone, login, server_url, tmp_path):
    page = open_filing_page(phone, login, server_url)
    phone.set_offline(True)
    file_offline(page, "楼道堆物引发邻里纠纷", camera_photo(tmp_path))
    # While the phone was offline, the type was withdrawn.
    Category.objects.filter(name="拖欠工资").update(is_active=False)

    phone.set_offline(False)

    item = page.get_by_test_id("offline-outbox").locator("[data-outbox-item]")
    expect(item.locator("[data-outbox-state=rejected]")).to_be_visible(timeout=20_000)
    expect(item).to_contain_text("纠纷类型：")
    assert not Case.objects.exists()
    item.get_by_role("button", name="修改").click()
    expect(page.locator("#id_cause")).to_have_value("楼道堆物引发邻里纠纷")
    expect(page.get_by_test_id("offline-outbox")).to_be_hidden()
    page.locator("#id_category").select_option(index=1)
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    assert Case.objects.get().attachments.count() == 1


def test_a_progress_note_written_offline_is_recorded_once(phone, login, server_url, wage_case):
    from disputes import services
    from grids.models import User

    services.case_accept(case=wage_case, actor=User.objects.get(username="secretary"))
    services.case_assign(
        case=wage_case,
        actor=User.objects.get(username="secretary"),
        mediator=User.objects.get(username="mediator"),
    )
    page = login(phone.new_page(), "mediator")
    url = server_url + reverse("disputes:detail", args=[wage_case.pk])
    page.goto(url)
    wait_until_offline_ready(page, server_url)
    page.reload()
    wait_until_cached(page, url)
    phone.set_offline(True)
    page.reload()  # from the phone
    expect(page.get_by_test_id("offline-banner")).to_contain_text("本机保存的页面")

    page.locator("details[data-action=progress] summary").click()
    page.locator("details[data-action=progress] textarea").fill("已到现场了解情况，约定周五调解")
    page.locator("details[data-action=progress]").get_by_role("button", name="反馈进展").click()

    expect(page.get_by_test_id("offline-note")).to_contain_text("没有网络")
    expect(page.get_by_test_id("offline-outbox")).to_contain_text(wage_case.number)
    phone.set_offline(False)

    expect(page.get_by_test_id("offline-outbox")).to_be_hidden(timeout=20_000)
    notes = CaseEvent.objects.filter(case=wage_case, kind=CaseEvent.Kind.PROGRESS)
    assert [e.note for e in notes] == ["已到现场了解情况，约定周五调解"]


COMPRESSIBLE = ("text/css", "javascript", "application/json", "manifest+json", "image/svg")


def wire_bytes(response) -> int:
    """What the response costs on a phone's network in production: static files leave
    whitenoise gzip-compressed (collectstatic writes the .gz copies), pages leave as they
    are (no compression in front of Django is assumed)."""
    try:
        body = response.body()
    except Exception:  # a redirect has no body to read
        return 0
    kind = response.headers.get("content-type", "")
    if any(k in kind for k in COMPRESSIBLE):
        return len(gzip.compress(body, 9))
    return len(body)


def test_the_filing_page_weighs_under_300_kb_first_and_30_kb_once_cached(phone, server_url, client):
    from grids.models import User

    client.force_login(User.objects.get(username="gridworker"))
    cookie = client.cookies["sessionid"].value
    phone.add_cookies([{"name": "sessionid", "value": cookie, "url": server_url}])
    seen = []
    phone.on("response", lambda response: seen.append(response))
    url = server_url + reverse("disputes:file")

    page = phone.new_page()
    page.goto(url)
    wait_until_offline_ready(page, server_url)
    page.wait_for_load_state("networkidle")
    first = sum(wire_bytes(r) for r in seen if not r.from_service_worker)
    first_list = [(r.url, wire_bytes(r)) for r in seen if not r.from_service_worker]

    seen.clear()
    page.goto(url)
    page.wait_for_load_state("networkidle")
    cached = sum(wire_bytes(r) for r in seen if not r.from_service_worker)
    cached_list = [(r.url, wire_bytes(r)) for r in seen if not r.from_service_worker]

    print(f"filing page weight: first load {first / 1024:.1f} KB, cached {cached / 1024:.1f} KB")
    assert first <= 300 * 1024, first_list
    assert cached <= 30 * 1024, cached_list

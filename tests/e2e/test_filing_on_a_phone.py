"""Filing on a slow phone network: the upload shows its progress, a double tap files one
case, and a connection that breaks mid-upload saves nothing and lets the worker retry."""

import io
import re

from django.urls import reverse
from PIL import Image
from playwright.sync_api import expect

from disputes.models import Case
from grids.models import Area

# Chrome DevTools' "Slow 3G" preset, upload as slow as the download.
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 50_000,
           "uploadThroughput": 50_000}  # fmt: skip


def camera_photo(tmp_path, name="楼道现场.jpg", side=900):
    """A noisy JPEG (it does not compress away), about 150 KB: three seconds on Slow 3G."""
    image = Image.effect_noise((side, side), 80).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    path = tmp_path / name
    path.write_bytes(buffer.getvalue())
    return path


def fill_filing(page):
    page.locator("#id_category").select_option(label="拖欠工资")
    page.locator("#id_cause").fill("楼道堆物引发邻里纠纷")
    page.locator("#id_address").fill("民生路12号2单元楼道")
    page.locator("#id_parties-0-name").fill("李大山")
    page.locator("#id_parties-1-name").fill("王小明")


def test_a_double_tap_on_slow_3g_files_one_case_with_its_photo(phone, login, server_url,
                                                                tmp_path):  # fmt: skip
    page = login(phone.new_page(), "gridworker")
    page.goto(server_url + reverse("disputes:file"))
    fill_filing(page)
    page.locator("#id_photos").set_input_files(camera_photo(tmp_path))
    cdp = phone.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)

    button = page.get_by_role("button", name="提交", exact=True)
    button.click()
    # The second tap lands on a button that is already busy.
    busy = page.locator("#file-submit")
    expect(busy).to_be_disabled()
    expect(busy).to_have_text("正在提交……")
    busy.click(force=True)
    busy.dispatch_event("click")
    expect(page.locator("#send-status")).to_be_visible()
    expect(page.locator("#send-text")).to_contain_text("正在上传")
    # Progress moves while the photo is on its way (a number above 0 % before 100 %).
    expect(page.locator("#send-progress")).to_have_text(re.compile(r"^([1-9]\d?)%$"))
    page.wait_for_url(re.compile(r"/cases/\d+/$"), timeout=60_000)
    cdp.send("Network.emulateNetworkConditions", {**SLOW_3G, "latency": 0,
              "downloadThroughput": -1, "uploadThroughput": -1})  # fmt: skip

    expect(page.get_by_text(re.compile("纠纷已登记"))).to_be_visible()
    case = Case.objects.get()
    assert case.cause == "楼道堆物引发邻里纠纷"
    assert case.attachments.get().original_name == "楼道现场.jpg"


def test_a_connection_that_breaks_saves_nothing_and_the_retry_files_once(
    phone, login, server_url, tmp_path
):
    """The phone loses its connection before the server answers (the request is cut off
    in the browser): the worker is told, everything typed stays, and tapping 提交 again
    files the dispute once, with its photo."""
    page = login(phone.new_page(), "gridworker")
    url = server_url + reverse("disputes:file")
    page.goto(url)
    fill_filing(page)
    page.locator("#id_photos").set_input_files(camera_photo(tmp_path))
    page.route(url, lambda route: route.abort("internetdisconnected"))

    page.get_by_role("button", name="提交", exact=True).click()

    expect(page.locator("#send-text")).to_contain_text("网络中断")
    expect(page.locator("#id_cause")).to_have_value("楼道堆物引发邻里纠纷")
    expect(page.get_by_role("button", name="提交", exact=True)).to_be_enabled()
    assert not Case.objects.exists()

    page.unroute(url)
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    case = Case.objects.get()
    assert case.attachments.get().original_name == "楼道现场.jpg"


def camera_jpeg(tmp_path) -> tuple:
    """A 4000×3000 camera JPEG of about 4 MB, held sideways (EXIF orientation 6) and
    carrying the GPS position it was taken at."""
    base = Image.effect_noise((500, 375), 100).convert("RGB").resize((4000, 3000))
    image = Image.blend(base, Image.effect_noise((4000, 3000), 30).convert("RGB"), 0.15)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (29.0, 33.0, 12.0), 3: "E", 4: (106.0, 34.0, 5.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92, exif=exif.tobytes())
    path = tmp_path / "IMG_20261203_101500.jpg"
    path.write_bytes(buffer.getvalue())
    return path, len(buffer.getvalue())


def test_a_4_mb_camera_photo_is_made_light_upright_and_placeless_on_slow_3g(
    phone, login, server_url, tmp_path
):
    path, size = camera_jpeg(tmp_path)
    assert size > 3_500_000
    page = login(phone.new_page(), "gridworker")
    page.goto(server_url + reverse("disputes:file"))
    fill_filing(page)
    page.locator("#id_photos").set_input_files(path)
    cdp = phone.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)

    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.locator("#send-progress")).to_have_text(re.compile(r"^([1-9]\d?)%$"))
    page.wait_for_url(re.compile(r"/cases/\d+/$"), timeout=90_000)

    photo = Case.objects.get().attachments.get()
    assert photo.original_name == "IMG_20261203_101500.jpg"
    assert photo.size < 1_000_000, photo.size  # was over 3.5 MB
    stored = Image.open(photo.file)
    assert max(stored.size) <= 1920
    assert stored.height > stored.width  # turned upright, as the camera was held
    exif = stored.getexif()
    assert exif.get(0x0112) in (None, 1)
    assert not exif.get_ifd(0x8825)  # no GPS position left in it


def test_use_my_location_records_the_position_and_picks_the_nearest_grid(phone, login, server_url):
    target = Area.objects.get(code="500103001001G01M02")
    phone.grant_permissions(["geolocation"])
    phone.set_geolocation(
        {"latitude": float(target.latitude), "longitude": float(target.longitude), "accuracy": 12}
    )
    page = login(phone.new_page(), "gridworker")
    page.goto(server_url + reverse("disputes:file"))
    fill_filing(page)

    page.get_by_role("button", name="使用当前位置").click()

    expect(page.locator("#location-text")).to_contain_text("已记录当前位置（误差约 12 米）")
    expect(page.locator("#location-text")).to_contain_text(f"已选择最近的网格：{target.name}")
    expect(page.locator("#id_area")).to_have_value(str(target.pk))
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    expect(page.get_by_test_id("case-location")).to_contain_text(f"{target.latitude:.5f}")
    case = Case.objects.get()
    assert case.area == target
    assert case.latitude == target.latitude

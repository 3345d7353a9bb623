"""Light photos in the browser: a grid worker files from an iPhone with a HEIC photo, which
Chromium cannot show; the case page then shows a small JPEG preview (not the photo itself),
and opening it shows the whole photo as JPEG."""

import io
import re

import pillow_heif
import pytest
from PIL import Image
from playwright.sync_api import expect

from disputes.models import Case
from tests.e2e.helpers import assert_no_horizontal_scroll, screenshot
from tests.e2e.test_filing_on_a_phone import fill_filing

pytestmark = pytest.mark.e2e


def heic_photo(tmp_path):
    image = Image.new("RGB", (1600, 1200), (40, 120, 200))
    image.paste((230, 180, 30), (0, 0, 800, 1200))
    buffer = io.BytesIO()
    pillow_heif.from_pillow(image).save(buffer, quality=60)
    path = tmp_path / "IMG_0042.HEIC"
    path.write_bytes(buffer.getvalue())
    return path


def test_a_heic_photo_shows_as_a_small_preview_and_opens_whole(phone, login, server_url, tmp_path):
    worker = login(phone.new_page(), "gridworker")
    worker.goto(f"{server_url}/cases/new/")
    fill_filing(worker)
    worker.locator("#id_photos").set_input_files(heic_photo(tmp_path))

    worker.get_by_role("button", name="提交", exact=True).click()
    worker.wait_for_url(re.compile(r"/cases/\d+/$"))

    photo = Case.objects.get().attachments.get()
    assert (photo.content_type, photo.original_name) == ("image/jpeg", "IMG_0042.jpg")
    preview = worker.locator("[data-testid=attachment-preview]")
    expect(preview).to_have_attribute("src", re.compile(r"/thumbnail/$"))
    # Decoded by the browser (it cannot decode HEIC), and small.
    worker.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=preview.element_handle()
    )
    width, height = preview.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert (width, height) == (320, 240)
    assert_no_horizontal_scroll(worker)
    screenshot(worker, "photo-preview-360")

    full = worker.request.get(server_url + preview.locator("xpath=..").get_attribute("href"))
    assert full.status == 200 and full.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(full.body())).size == (1600, 1200)

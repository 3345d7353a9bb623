"""Small helpers shared by the browser tests."""

import io
import os

from PIL import Image

PHONE_WIDTH = 360


def png_bytes(size=(32, 24), colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def assert_no_horizontal_scroll(page, width: int = PHONE_WIDTH):
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"page is {scroll_width}px wide on a {width}px screen"


def screenshot(page, name: str):
    """Full-page screenshots for a human to look at, only when asked for
    (E2E_SCREENSHOT_DIR=/tmp/shots): CI does not need them."""
    folder = os.environ.get("E2E_SCREENSHOT_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)

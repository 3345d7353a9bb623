"""HTML → PDF with WeasyPrint (Chinese text in the Noto Sans CJK fonts Debian installs), and
photos placed on A4 pages. Pure functions of their input, so the same case gives the same
pages (the hash differs only by the time stamped on the cover)."""

import base64
import io

from django.template.loader import render_to_string
from django.utils import translation
from PIL import Image
from weasyprint import HTML

# Photos are scaled down to this many pixels on the long side before they are placed: a
# printed A4 page needs no more, and the file stays small enough to download on a phone.
PHOTO_MAX_SIDE = 1600


def html_to_pdf(template: str, context: dict) -> bytes:
    """A PDF from one of our templates, always in Chinese (the file is the official record,
    whatever the viewer's language)."""
    with translation.override("zh-hans"):
        html = render_to_string(template, context)
    return HTML(string=html).write_pdf()


def _data_uri(data: bytes, content_type: str) -> tuple[str, str]:
    """The photo as a data: URI, scaled down and re-encoded as JPEG when large."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        if max(image.size) > PHOTO_MAX_SIDE or content_type not in ("image/jpeg", "image/png"):
            image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, format="JPEG", quality=85)
            data, content_type = buffer.getvalue(), "image/jpeg"
        orientation = "landscape" if image.width > image.height else "portrait"
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}", orientation


def photos_to_pdf(photos: list[tuple[str, str, bytes, str]]) -> bytes:
    """[(section, title, bytes, content type)] → one PDF, exactly one page per photo in the
    same order, each captioned with its title (one WeasyPrint run for all of them)."""
    items = []
    for section, title, data, content_type in photos:
        uri, orientation = _data_uri(data, content_type)
        items.append({"section": section, "title": title, "uri": uri, "orientation": orientation})
    return html_to_pdf("casefiles/pdf/photos.html", {"photos": items})

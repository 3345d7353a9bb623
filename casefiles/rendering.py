"""HTML → PDF with WeasyPrint (Chinese text in the Noto Sans CJK fonts Debian installs), and
photos placed on A4 pages. Pure functions of their input, so the same case gives the same
pages (the hash differs only by the time stamped on the cover)."""

import io

from django.template.loader import render_to_string
from django.utils import translation
from PIL import Image, ImageFile
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

# Importing WeasyPrint sets Pillow's LOAD_TRUNCATED_IMAGES for the whole process, after which
# a damaged upload decodes "successfully" and disputes.photos.photo_check lets it in. Every
# photo a file holds was checked whole at upload, so nothing here needs the lenient mode.
ImageFile.LOAD_TRUNCATED_IMAGES = False

# Photos are scaled down to this many pixels on the long side before they are placed: a
# printed A4 page needs no more, and the file stays small enough to download on a phone.
PHOTO_MAX_SIDE = 1600


PHOTO_SCHEME = "casefile-photo:"


class LocalOnly(URLFetcher):
    """Fetches nothing from the network or the disk: a file is made of what the case holds,
    handed over in memory (photos as casefile-photo:<n>; a data: URI or an HTML string
    would cost seconds of parsing per megabyte)."""

    def __init__(self, photos: list[tuple[bytes, str]] = ()):
        super().__init__()
        self.photos = list(photos)

    def fetch(self, url, headers=None):
        if url.startswith(PHOTO_SCHEME):
            data, content_type = self.photos[int(url[len(PHOTO_SCHEME) :])]
            return URLFetcherResponse(url, body=data, headers={"Content-Type": content_type})
        raise ValueError(f"no external resources in a case file: {url[:40]}")


def html_to_pdf(template: str, context: dict, fetcher: LocalOnly | None = None) -> bytes:
    """A PDF from one of our templates, always in Chinese (the file is the official record,
    whatever the viewer's language)."""
    with translation.override("zh-hans"):
        html = render_to_string(template, context)
    return HTML(string=html, url_fetcher=fetcher or LocalOnly()).write_pdf()


def _prepared(data: bytes, content_type: str) -> tuple[bytes, str, str]:
    """The photo scaled down and re-encoded as JPEG when large, and its orientation."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        if max(image.size) > PHOTO_MAX_SIDE or content_type not in ("image/jpeg", "image/png"):
            image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, format="JPEG", quality=85)
            data, content_type = buffer.getvalue(), "image/jpeg"
        orientation = "landscape" if image.width > image.height else "portrait"
    return data, content_type, orientation


def photos_to_pdf(photos: list[tuple[str, str, bytes, str]]) -> bytes:
    """[(section, title, bytes, content type)] → one PDF, exactly one page per photo in the
    same order, each captioned with its title (one WeasyPrint run for all of them)."""
    items, fetcher = [], LocalOnly()
    for n, (section, title, data, content_type) in enumerate(photos):
        data, content_type, orientation = _prepared(data, content_type)
        fetcher.photos.append((data, content_type))
        uri = f"{PHOTO_SCHEME}{n}"
        items.append({"section": section, "title": title, "uri": uri, "orientation": orientation})
    return html_to_pdf("casefiles/pdf/photos.html", {"photos": items}, fetcher)

"""QR codes for the report form of an area (segno: pure Python, PNG and SVG)."""

import io

import segno
from django.urls import reverse

from . import conf


def report_url(request, area_code: str) -> str:
    path = reverse("resident_public:report", args=[area_code])
    base = conf.public_base_url()
    return f"{base}{path}" if base else request.build_absolute_uri(path)


def make(url: str):
    # Always a full QR code: phone cameras and WeChat do not read Micro QR.
    return segno.make_qr(url, error="m")


def png(url: str, scale: int = 10) -> bytes:
    buffer = io.BytesIO()
    make(url).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def svg(url: str, scale: int = 10) -> bytes:
    buffer = io.BytesIO()
    make(url).save(buffer, kind="svg", scale=scale, border=4, title=url)
    return buffer.getvalue()


def svg_inline(url: str, scale: int = 8) -> str:
    # viewBox instead of a fixed size: the poster scales it to the paper.
    return make(url).svg_inline(scale=scale, border=2, svgclass="qr-code", omitsize=True)

"""A case with photos and a PDF, taken to closed; the archive's PDF read back."""

import io
import subprocess

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfReader
from weasyprint import HTML

from disputes import services


def photo(name: str, colour: str = "red", size=(640, 480)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def pdf_pages(name: str, pages: int) -> SimpleUploadedFile:
    """A real PDF whose every page says which file and page it is."""
    body = "".join(
        f'<p style="page-break-after: always">{name} 第{n}页</p>' for n in range(1, pages + 1)
    )
    html = f'<html><body style="font-family: Noto Sans CJK SC">{body}</body></html>'
    return SimpleUploadedFile(name, HTML(string=html).write_pdf(), content_type="application/pdf")


def resolved_case(w, file_case, *, photos=2, pdf_page_counts=(2,)):
    case = file_case(w, photos=[photo(f"现场照片{i + 1}.jpg") for i in range(photos)])
    services.case_assign(case=case, mediator=w.mediator, actor=w.secretary)
    files = [pdf_pages(f"证据材料{i + 1}.pdf", n) for i, n in enumerate(pdf_page_counts)]
    if files:
        services.case_attach(case=case, actor=w.mediator, files=files, note="补充证据")
    services.case_progress(case=case, actor=w.mediator, note="上门调解")
    return services.case_resolve(case=case, actor=w.mediator, outcome="agreement", note="已签协议")


def close(w, case):
    # The shipped policy has the unit check a resolution: someone other than the resolver.
    return services.case_close(case=case, actor=w.secretary, note="结案")


def page_texts(data: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def pdftotext(data: bytes, first: int, last: int) -> str:
    """The text of pages first..last (from 1) as poppler reads it, laid out in lines."""
    out = subprocess.run(
        ["pdftotext", "-layout", "-f", str(first), "-l", str(last), "-", "-"],
        input=data,
        capture_output=True,
        check=True,
    )
    return out.stdout.decode()

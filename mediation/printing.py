"""The printed papers, rendered to PDF by WeasyPrint in the worker (tasks.render_document):
the notice of rights and duties (告知书), a session's record (调解笔录) and the agreement
(调解协议书), each twice: in full, and with the parties' phone and ID numbers masked for
viewers who may not see them. Chinese text needs the CJK fonts bin/system-deps installs."""

import base64
import hashlib
import io
import time

from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from PIL import ImageFile
from pypdf import PdfReader
from weasyprint import HTML

from .models import Agreement, Document, DocumentKind, DocumentStatus

# WeasyPrint turns Pillow's LOAD_TRUNCATED_IMAGES on for the whole process when imported,
# and the web process imports it (urls → views → services → tasks → here). The photo and
# signature checks (disputes/attachments.py, services/signing.py) rely on a truncated image
# failing to load, so the default is put back; our papers embed only images we checked.
ImageFile.LOAD_TRUNCATED_IMAGES = False

TEMPLATES = {
    DocumentKind.NOTICE: "mediation/pdf/notice.html",
    DocumentKind.RECORD: "mediation/pdf/record.html",
    DocumentKind.AGREEMENT: "mediation/pdf/agreement.html",
}


def document_for_printing(document_id: int) -> Document:
    return (
        Document.objects.select_related(
            "case",
            "case__handling_area",
            "case__district",
            "case__category",
            "session",
            "agreement",
            "agreement__mediator",
        )
        .prefetch_related("case__parties")
        .get(pk=document_id)
    )


def _data_uri(field_file) -> str:
    with field_file.open("rb") as handle:
        return "data:image/png;base64," + base64.b64encode(handle.read()).decode()


def context_for(document: Document) -> dict:
    case = document.case
    context = {
        "case": case,
        "parties": list(case.parties.all()),
        "committee": f"{case.handling_area.name}人民调解委员会",
        "today": timezone.localdate(),
        "document": document,
    }
    if document.session_id:
        session = document.session
        context["session"] = session
        context["attendance"] = list(session.attendance.select_related("party", "user"))
        context["mediators"] = list(session.mediators.all())
    if document.agreement_id:
        agreement = document.agreement
        context["agreement"] = agreement
        context["obligations"] = list(agreement.obligations.select_related("party"))
        context["clauses"] = [c for c in agreement.clauses.splitlines() if c.strip()]
        if document.final:
            context["signatures"] = [
                (s, _data_uri(s.image))
                for s in agreement.signatures.select_related("party", "user")
                if s.method == s.Method.DRAWN
            ]
    return context


def render_pdf(document: Document, *, masked: bool) -> bytes:
    # Papers are Chinese whatever language the worker runs in.
    with translation.override("zh-hans"):
        html = render_to_string(
            TEMPLATES[document.kind], context_for(document) | {"masked": masked}
        )
    return HTML(string=html).write_pdf()


def render(document_id: int) -> dict:
    """Both copies of one document, with the page count and the seconds it took."""
    document = document_for_printing(document_id)
    started = time.perf_counter()
    full = render_pdf(document, masked=False)
    masked = render_pdf(document, masked=True)
    seconds = time.perf_counter() - started
    pages = len(PdfReader(io.BytesIO(full)).pages)
    return {"full": full, "masked": masked, "pages": pages, "seconds": seconds}


@transaction.atomic
def document_finish(*, document_id: int, full: bytes, masked: bytes, pages: int, seconds: float):
    """Store a rendering. Claimed by a conditional update, so a task delivered twice stores
    once; the signed agreement's hash goes onto the agreement (its freeze)."""
    claimed = Document.objects.filter(pk=document_id, status=DocumentStatus.PENDING).update(
        status=DocumentStatus.READY, ready_at=timezone.now()
    )
    if not claimed:
        return None
    document = Document.objects.get(pk=document_id)
    digest = hashlib.sha256(full).hexdigest()
    document.file.save(f"{document.kind}-{document.pk}.pdf", ContentFile(full), save=False)
    document.masked_file.save(
        f"{document.kind}-{document.pk}-masked.pdf", ContentFile(masked), save=False
    )
    document.sha256, document.pages, document.render_seconds = digest, pages, seconds
    document.save(update_fields=["file", "masked_file", "sha256", "pages", "render_seconds"])
    if document.final:
        Agreement.objects.filter(pk=document.agreement_id, sha256="").update(sha256=digest)
    return document


def document_failed(*, document_id: int, error: str) -> None:
    Document.objects.filter(pk=document_id, status=DocumentStatus.PENDING).update(
        status=DocumentStatus.FAILED, error=error[:300]
    )

"""Putting one copy of the file together: the cover and the index (目录) rendered by
WeasyPrint, then every document in the national order (disputes.case_file.documents_for),
photos placed on pages, PDFs merged with pypdf. The index's page numbers are the pages of
the finished PDF, counted after the front pages are laid out (rendered again in the rare
case the index needs more pages than first thought)."""

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError

from disputes.case_file import FileDocument, Slot

from .rendering import html_to_pdf, photos_to_pdf

# The file is the official record: its section names are Chinese whatever the reader's
# language (the national order's names, disputes.case_file.Slot).
SECTIONS = {
    Slot.INTAKE: "受理登记",
    Slot.NOTICE: "权利义务告知书",
    Slot.IDENTITY: "当事人身份证明",
    Slot.INVESTIGATION: "调查笔录",
    Slot.EVIDENCE: "证据材料",
    Slot.RECORD: "调解笔录",
    Slot.AGREEMENT: "调解协议书",
    Slot.PERFORMANCE: "履行情况凭证",
    Slot.CALLBACK: "回访记录",
    Slot.CONFIRMATION: "司法确认材料",
}
# Index rows that fit on the first index page (the rest continue on the next ones).
INDEX_ROWS_PER_PAGE = 24


@dataclass
class Part:
    """One document of the file, as pages of a PDF already read."""

    slot: int
    title: str
    created_at: datetime
    reader: PdfReader
    first: int  # the document's first page in `reader`
    count: int

    @property
    def section(self) -> str:
        return SECTIONS.get(self.slot, "")


def _reader(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data))


def _unreadable(doc: FileDocument) -> Part:
    """A PDF that cannot be merged (damaged, or locked with a password) gets a page saying
    so, in its place; the original stays on the case page."""
    data = html_to_pdf("casefiles/pdf/unreadable.html", {"title": doc.title})
    reader = _reader(data)
    return Part(doc.slot, doc.title, doc.created_at, reader, 0, len(reader.pages))


def _pdf_part(doc: FileDocument, data: bytes) -> Part:
    try:
        reader = _reader(data)
        if reader.is_encrypted:
            return _unreadable(doc)
        count = len(reader.pages)
    except (PdfReadError, ValueError, KeyError, OSError):
        return _unreadable(doc)
    if count == 0:
        return _unreadable(doc)
    return Part(doc.slot, doc.title, doc.created_at, reader, 0, count)


def _is_photo(doc: FileDocument) -> bool:
    return doc.content_type.startswith("image/")


def collect(
    docs: list[FileDocument], progress: Callable[[float], None] | None = None
) -> tuple[list[Part], list[Part]]:
    """The parts of the full copy and of the masked copy. Each document is read once; only
    those holding parties' phone or ID numbers are read a second time, masked."""
    full: list[Part | None] = [None] * len(docs)
    masked: list[Part | None] = [None] * len(docs)
    photos = [(i, doc) for i, doc in enumerate(docs) if _is_photo(doc)]
    done = 0
    for i, doc in enumerate(docs):
        if _is_photo(doc):
            continue
        full[i] = _pdf_part(doc, doc.read())
        if doc.holds_pii:
            withheld = doc.read_masked is None
            masked[i] = _unreadable(doc) if withheld else _pdf_part(doc, doc.read_masked())
        else:
            masked[i] = full[i]
        done += 1
        if progress:
            progress(done / max(len(docs), 1))
    if photos:
        pdf = photos_to_pdf(
            [(SECTIONS.get(d.slot, ""), d.title, d.read(), d.content_type) for _, d in photos]
        )
        reader = _reader(pdf)
        for page, (i, doc) in enumerate(photos):
            full[i] = masked[i] = Part(doc.slot, doc.title, doc.created_at, reader, page, 1)
        if progress:
            progress(1.0)
    return full, masked


def _front(meta: dict, parts: list[Part], front_pages: int) -> tuple[bytes, list[dict]]:
    page = front_pages + 1
    index = []
    for part in parts:
        index.append(
            {
                "slot": part.slot,
                "section": part.section,
                "title": part.title,
                "page": page,
                "pages": part.count,
            }
        )
        page += part.count
    context = {**meta, "index": index, "total_pages": page - 1}
    return html_to_pdf("casefiles/pdf/front.html", context), index


def assemble(meta: dict, parts: list[Part]) -> tuple[bytes, list[dict], int]:
    """The finished PDF, its index (each entry's first page, counted from 1) and its page
    count."""
    guess = 1 + max(1, math.ceil(len(parts) / INDEX_ROWS_PER_PAGE))
    for _attempt in range(3):
        front, index = _front(meta, parts, guess)
        laid_out = len(_reader(front).pages)
        if laid_out == guess:
            break
        guess = laid_out
    else:  # pragma: no cover - the layout converges in two runs
        raise RuntimeError("the index did not settle on a page count")
    writer = PdfWriter()
    writer.append(_reader(front), import_outline=False)
    for part, entry in zip(parts, index, strict=True):
        writer.append(
            part.reader, pages=(part.first, part.first + part.count), import_outline=False
        )
        writer.add_outline_item(
            title=f"{entry['section']} · {entry['title']}", page_number=entry["page"] - 1
        )
    writer.add_metadata({"/Title": meta["number"], "/Subject": meta["case"].number})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue(), index, len(writer.pages)

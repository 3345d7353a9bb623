"""The mediation's documents for the case file (卷宗, disputes/case_file.py): the notice of
rights and duties, each session's record, the signed agreement, the proofs of performance and
the court's papers, each in its slot. Only finished papers: a draft is not filed."""

from disputes.case_file import FileDocument, Slot

from .models import (
    AgreementStatus,
    Document,
    DocumentKind,
    DocumentStatus,
    JudicialConfirmation,
    Obligation,
)

SLOTS = {DocumentKind.NOTICE: Slot.NOTICE, DocumentKind.RECORD: Slot.RECORD}


def _reader(field_file):
    def read() -> bytes:
        with field_file.open("rb") as handle:
            return handle.read()

    return read


def _paper(document: Document, title: str, slot: int) -> FileDocument:
    masked = document.masked_file
    return FileDocument(
        slot=slot,
        title=title,
        created_at=document.ready_at or document.created_at,
        content_type="application/pdf",
        read=_reader(document.file),
        holds_pii=True,
        read_masked=_reader(masked) if masked else None,
    )


def documents(case) -> list[FileDocument]:
    ready = Document.objects.filter(case_id=case.pk, status=DocumentStatus.READY).select_related(
        "session", "agreement"
    )
    latest = {}
    for document in ready.order_by("pk"):
        if document.kind == DocumentKind.AGREEMENT:
            if not document.final or document.agreement.status == AgreementStatus.DRAFT:
                continue
            key = ("agreement", document.agreement_id)
        else:
            key = (document.kind, document.session_id)
        latest[key] = document  # the newest printing of each paper
    docs = []
    for (kind, _ref), document in latest.items():
        if kind == "agreement":
            agreement = document.agreement
            title = f"{agreement.title} {agreement}"
            docs.append(_paper(document, title, Slot.AGREEMENT))
        elif kind == DocumentKind.RECORD:
            docs.append(_paper(document, f"调解笔录（第{document.session.number}次）", Slot.RECORD))
        else:
            docs.append(_paper(document, "当事人权利义务告知书", SLOTS[kind]))
    for obligation in Obligation.objects.filter(agreement__case_id=case.pk).exclude(proof=""):
        docs.append(
            FileDocument(
                slot=Slot.PERFORMANCE,
                title=f"履行凭证：{obligation.description}",
                created_at=obligation.performed_at,
                content_type=_type_of(obligation.proof.name),
                read=_reader(obligation.proof),
            )
        )
    for confirmation in JudicialConfirmation.objects.filter(agreement__case_id=case.pk).exclude(
        papers=""
    ):
        docs.append(
            FileDocument(
                slot=Slot.CONFIRMATION,
                title=f"司法确认裁定 {confirmation.ruling_number}",
                created_at=confirmation.updated_at,
                content_type="application/pdf",
                read=_reader(confirmation.papers),
                holds_pii=True,
            )
        )
    return docs


def _type_of(name: str) -> str:
    lower = name.lower()
    if lower.endswith(".pdf"):
        return "application/pdf"
    if lower.endswith(".png"):
        return "image/png"
    return "image/jpeg"

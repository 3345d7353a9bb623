"""What disputes and residents already hold, supplied to the file (disputes/case_file.py):
the intake register rendered from the case, the case's photos and PDFs, and the callback
record. Registered from casefiles' ready(): casefiles sits above both apps, so neither of
them has to know the file exists."""

from django.utils import timezone

from disputes.case_file import FileDocument, Slot
from disputes.models import Case
from grids.models import mask_phone
from residents.models import CallbackTask

from .rendering import html_to_pdf


def mask_id(value: str) -> str:
    """110***********1234: the region and the last digits, as the pages show it."""
    value = (value or "").strip()
    if len(value) < 8:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


def party_rows(case: Case, *, masked: bool) -> list[dict]:
    rows = []
    for party in case.parties.all():
        phone, id_number = party.phone, party.id_number or ""
        if masked:
            phone, id_number = mask_phone(phone) if phone else "", mask_id(id_number)
        rows.append(
            {
                "side": party.get_side_display(),
                "kind": party.get_kind_display(),
                "name": party.name,
                "phone": phone,
                "id_number": id_number,
                "address": party.address,
            }
        )
    return rows


def intake_register(case: Case, *, masked: bool) -> bytes:
    context = {"case": case, "parties": party_rows(case, masked=masked), "masked": masked}
    return html_to_pdf("casefiles/pdf/intake.html", context)


def intake_provider(case: Case):
    yield FileDocument(
        slot=Slot.INTAKE,
        title="受理登记表",
        created_at=case.filed_at,
        content_type="application/pdf",
        read=lambda: intake_register(case, masked=False),
        holds_pii=True,
        read_masked=lambda: intake_register(case, masked=True),
    )


def evidence_provider(case: Case):
    """Each photo and PDF on the case, in the order they were added."""
    for attachment in case.attachments.all():

        def read(a=attachment) -> bytes:
            with a.file.open("rb") as f:
                return f.read()

        yield FileDocument(
            slot=Slot.EVIDENCE,
            title=attachment.original_name or f"附件{attachment.pk}",
            created_at=attachment.created_at,
            content_type=attachment.content_type,
            read=read,
        )


def callback_record(case: Case, task: CallbackTask) -> bytes:
    return html_to_pdf("casefiles/pdf/callback.html", {"case": case, "task": task})


def callback_provider(case: Case):
    tasks = CallbackTask.objects.filter(case=case, status=CallbackTask.Status.DONE).select_related(
        "done_by"
    )
    for task in tasks:
        yield FileDocument(
            slot=Slot.CALLBACK,
            title=f"回访记录 {timezone.localtime(task.done_at):%Y-%m-%d}",
            created_at=task.done_at,
            content_type="application/pdf",
            read=lambda t=task: callback_record(case, t),
        )


PROVIDERS = (intake_provider, evidence_provider, callback_provider)

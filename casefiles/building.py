"""Building an archive's two copies (the full file and the one with the parties' phone and
ID numbers masked) and freezing them: files stored, SHA-256 recorded, the timeline told."""

import logging
import secrets
from datetime import timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from disputes import services as case_services
from disputes.case_file import documents_for
from disputes.models import Case, CaseEvent

from . import builder
from .documents import party_rows
from .models import CaseFileArchive, sha256_of

log = logging.getLogger(__name__)
A = CaseFileArchive
# A build not finished this long after it was asked for is asked again (one takes seconds).
STALE_AFTER = timedelta(minutes=15)


def _progress(archive_id: int, value: float) -> None:
    # Its own statement, outside the build's transaction: the page polls it meanwhile.
    A.objects.filter(pk=archive_id).update(progress=max(1, min(99, int(value))))


def archive_build(*, archive_id: int) -> CaseFileArchive | None:
    """Build both copies of one archive, once: the build is claimed with a conditional
    UPDATE, so a task delivered twice (or the fallback racing the task) builds it once."""
    claimed = A.objects.filter(pk=archive_id, status=A.Status.QUEUED).update(
        status=A.Status.BUILDING, progress=1
    )
    if not claimed:
        return None
    archive = A.objects.select_related("case", "unit").get(pk=archive_id)
    try:
        full, masked = _build_copies(archive)
    except Exception as exc:
        log.exception("archive %s could not be built", archive_id)
        A.objects.filter(pk=archive_id).update(status=A.Status.FAILED, error=str(exc)[:2000])
        return None
    return _freeze(archive, full, masked)


def _meta(archive: CaseFileArchive, *, masked: bool) -> dict:
    case = archive.case
    return {
        "case": case,
        "number": archive.number,
        "version": archive.version,
        "unit": archive.unit,
        "mediator": case.mediator.display_name if case.mediator_id else "",
        "parties": party_rows(case, masked=True),  # the cover names them, no numbers
        "archived_at": timezone.localtime(),
        "masked": masked,
    }


def _build_copies(archive: CaseFileArchive):
    case = (
        Case.objects.select_related("category", "area", "handling_area", "filed_by", "mediator")
        .prefetch_related("parties", "attachments")
        .get(pk=archive.case_id)
    )
    archive.case = case
    docs = documents_for(case)
    _progress(archive.pk, 5)
    full_parts, masked_parts = builder.collect(
        docs, progress=lambda share: _progress(archive.pk, 5 + 70 * share)
    )
    full = builder.assemble(_meta(archive, masked=False), full_parts)
    _progress(archive.pk, 85)
    masked = builder.assemble(_meta(archive, masked=True), masked_parts)
    _progress(archive.pk, 95)
    return full, masked


@transaction.atomic
def _freeze(archive: CaseFileArchive, full, masked) -> CaseFileArchive:
    (full_pdf, full_index, full_pages), (masked_pdf, masked_index, masked_pages) = full, masked
    token = secrets.token_hex(8)
    stem = f"{archive.case.number}-v{archive.version}-{token}"
    storage = A._meta.get_field("file").storage
    path = f"casefiles/{archive.case_id}/{stem}.pdf"
    masked_path = f"casefiles/{archive.case_id}/{stem}-masked.pdf"
    name = storage.save(path, ContentFile(full_pdf))
    masked_name = storage.save(masked_path, ContentFile(masked_pdf))
    built_at = timezone.now()
    updated = A.objects.filter(pk=archive.pk, status=A.Status.BUILDING).update(
        status=A.Status.READY,
        progress=100,
        file=name,
        sha256=sha256_of(full_pdf),
        pages=full_pages,
        index=full_index,
        masked_file=masked_name,
        masked_sha256=sha256_of(masked_pdf),
        masked_pages=masked_pages,
        masked_index=masked_index,
        built_at=built_at,
        error="",
    )
    if not updated:  # reset by the fallback meanwhile: that build will freeze it
        storage.delete(name)
        storage.delete(masked_name)
        return A.objects.get(pk=archive.pk)
    archive = A.objects.select_related("case").get(pk=archive.pk)
    case_services.case_record(
        case=archive.case,
        kind=CaseEvent.Kind.ARCHIVED,
        actor=None,
        note=archive.number,
        data={
            "archive": archive.pk,
            "number": archive.number,
            "version": archive.version,
            "pages": archive.pages,
            "sha256": archive.sha256,
        },
    )
    return archive


@transaction.atomic
def reset_stale(*, now=None) -> list[int]:
    """The builds still waiting or running well after they were asked for, put back to
    "queued" for the task to ask again (tasks.requeue_stale). Safe beside a build that is
    merely slow: a freeze only takes a row still "building", so one of the two wins."""
    now = now or timezone.now()
    stale = list(
        A.objects.select_for_update(skip_locked=True)
        .filter(status__in=[A.Status.QUEUED, A.Status.BUILDING], created_at__lt=now - STALE_AFTER)
        .values_list("pk", flat=True)
    )
    A.objects.filter(pk__in=stale).update(status=A.Status.QUEUED, progress=0)
    return stale

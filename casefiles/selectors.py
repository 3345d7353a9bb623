"""Reads of archived files, each through the case scope."""

from common.prepared import Prepared
from disputes.models import Case
from disputes.permissions import sees_party_details

from .models import CaseFileArchive

A = CaseFileArchive


def visible_archives(user):
    return A.objects.filter(case__in=Case.objects.visible_to(user).values("pk"))


def archive_detail(*, user, pk: int) -> CaseFileArchive:
    """Raises CaseFileArchive.DoesNotExist (→ 404) outside the user's scope."""
    return (
        visible_archives(user)
        .select_related("case", "case__handling_area", "unit", "requested_by")
        .get(pk=pk)
    )


def archive_list(*, user, case_id: int | None = None):
    # What copy_for asks of each row's case (is_manager, is_handler) comes along.
    qs = (
        visible_archives(user)
        .select_related("case", "case__handling_area", "unit")
        .prefetch_related("case__assistants")
    )
    if case_id:
        qs = qs.filter(case_id=case_id)
    return qs.order_by("-created_at", "-pk")


def case_archives(case) -> list[CaseFileArchive]:
    """For the case page and the file page, whose viewer was checked already."""
    return ARCHIVES.rows(case.pk)


# On every case page: compiled once per connection (common.prepared).
ARCHIVES = Prepared(lambda case_id: A.objects.filter(case_id=case_id).order_by("-version"))


def copy_for(user, archive: CaseFileArchive) -> dict:
    """The copy this viewer gets: the full file for those who may see the parties' phone
    and ID numbers (the handler, the filer, the case's queue), the masked one otherwise."""
    if sees_party_details(user, archive.case):
        return {
            "masked": False,
            "file": archive.file,
            "sha256": archive.sha256,
            "pages": archive.pages,
            "index": archive.index,
        }
    return {
        "masked": True,
        "file": archive.masked_file,
        "sha256": archive.masked_sha256,
        "pages": archive.masked_pages,
        "index": archive.masked_index,
    }

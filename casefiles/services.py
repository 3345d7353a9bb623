"""Every write of the mediation file. A close asks for an archive inside its own
transaction (receivers.py), so a close and its archive row commit together and one close
gives one archive however often it is asked; the build runs after commit in a Celery task
(tasks.py → building.py); a build lost on the way (broker restart, worker killed) is asked
again by the beat task `tasks.requeue_stale`."""

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import StateConflict
from disputes import permissions
from disputes.models import Case, CaseEvent, CaseStatus

from .models import ArchiveSequence, CaseFileArchive
from .tasks import build_archive

A = CaseFileArchive


def may_archive(user, case: Case) -> bool:
    """Who asks for a closed case's file to be archived again: whoever runs its queue."""
    return permissions.is_manager(user, case)


def _next_number(case: Case, unit, year: int) -> tuple[int, str]:
    """The case's archive number: an earlier version's, or the next of the unit's year."""
    earlier = A.objects.filter(case=case).order_by("version").first()
    if earlier is not None:
        return earlier.sequence, earlier.number
    ArchiveSequence.objects.bulk_create(
        [ArchiveSequence(unit=unit, year=year)], ignore_conflicts=True
    )
    sequence = ArchiveSequence.objects.select_for_update().get(unit=unit, year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return sequence.last, f"{unit.name}调卷〔{year}〕{sequence.last}号"


def _create(case: Case, *, reason: str, actor, trigger_event_id=None) -> CaseFileArchive:
    """Call with the case row locked (a close holds it; `archive_again` takes it)."""
    closed_at = timezone.localtime(case.closed_at or timezone.now())
    unit = case.handling_area
    version = (A.objects.filter(case=case).aggregate(v=Max("version"))["v"] or 0) + 1
    sequence, number = _next_number(case, unit, closed_at.year)
    archive = A.objects.create(
        case=case,
        version=version,
        unit=unit,
        year=closed_at.year,
        sequence=sequence,
        number=number,
        reason=reason,
        trigger_event_id=trigger_event_id,
        requested_by=actor,
    )
    queue_build(archive.pk)
    return archive


def queue_build(archive_id: int) -> None:
    transaction.on_commit(lambda: build_archive.delay(archive_id))


def archive_for_close(event: CaseEvent) -> CaseFileArchive | None:
    """Inside the closing transaction: the archive of this close (once per closing event:
    a second call, or a racing one, finds the first)."""
    existing = A.objects.filter(trigger_event_id=event.pk).first()
    if existing is not None:
        return existing
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("handling_area")
        .get(pk=event.case_id)
    )
    try:
        with transaction.atomic():
            return _create(
                case, reason=A.Reason.CLOSED, actor=event.actor, trigger_event_id=event.pk
            )
    except IntegrityError:
        return A.objects.get(trigger_event_id=event.pk)


@transaction.atomic
def archive_again(*, case: Case, actor) -> CaseFileArchive:
    """A new version of a closed case's file (the earlier ones stay as they were)."""
    if not may_archive(actor, case):
        raise PermissionDenied(_("You may not archive this case's file."))
    case = (
        Case.objects.select_for_update(of=("self",)).select_related("handling_area").get(pk=case.pk)
    )
    if case.status != CaseStatus.CLOSED:
        raise StateConflict(_("Only a closed case's file is archived."))
    if A.objects.filter(case=case, status__in=[A.Status.QUEUED, A.Status.BUILDING]).exists():
        raise StateConflict(_("The file is being archived already."))
    return _create(case, reason=A.Reason.AGAIN, actor=actor)

"""The worker side of admin CSV uploads (Celery jobs started by import_job_start).
Progress goes to the cache because the import itself runs in one transaction whose row
updates other connections cannot see yet."""

from django.core.cache import cache
from django.utils import timezone

from .imports import ImportFileError, import_areas, import_staff
from .models import ImportJob

IMPORTERS = {ImportJob.Kind.AREAS: import_areas, ImportJob.Kind.STAFF: import_staff}


def progress_key(job_id: int) -> str:
    return f"importjob:{job_id}:progress"


def import_job_progress(job: ImportJob) -> tuple[int, int]:
    """(processed, total) for a running job, from the cache, falling back to the row."""
    cached = cache.get(progress_key(job.pk))
    if cached and not job.is_finished:
        return cached
    return job.processed_rows, job.total_rows


def import_job_run(*, job_id: int) -> ImportJob | None:
    # Claim: only one worker moves a job from pending to running, so a redelivered
    # message does not import the file twice.
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PENDING).update(
        status=ImportJob.Status.RUNNING
    )
    if not claimed:
        return None
    job = ImportJob.objects.get(pk=job_id)

    def progress(done: int, total: int):
        cache.set(progress_key(job_id), (done, total), timeout=3600)

    fields = [
        "status",
        "total_rows",
        "processed_rows",
        "created_count",
        "updated_count",
        "unchanged_count",
        "errors",
        "finished_at",
    ]
    try:
        with job.file.open("rb") as handle:
            data = handle.read()
        kwargs = {"actor": job.created_by} if job.kind == ImportJob.Kind.STAFF else {}
        result = IMPORTERS[job.kind](data, progress=progress, **kwargs)
    except ImportFileError as exc:
        job.status = ImportJob.Status.FAILED
        job.errors = [{"line": 0, "message": str(exc)}]
    else:
        job.status = ImportJob.Status.SUCCEEDED if result.ok else ImportJob.Status.FAILED
        job.total_rows = result.total
        job.processed_rows = result.total if result.ok else 0
        job.created_count = result.created
        job.updated_count = result.updated
        job.unchanged_count = result.unchanged
        job.errors = result.errors
    job.finished_at = timezone.now()
    job.save(update_fields=fields)
    cache.delete(progress_key(job_id))
    return job

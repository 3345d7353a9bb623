from celery import shared_task

from .building import archive_build, reset_stale


@shared_task(ignore_result=True)
def build_archive(archive_id: int) -> None:
    """Queued after the commit that asked for the archive; safe to run twice (the build is
    claimed with a conditional UPDATE)."""
    archive_build(archive_id=archive_id)


@shared_task(ignore_result=True)
def requeue_stale() -> int:
    """Beat, every 10 minutes: builds lost on the way (a broker restart, a killed worker)
    are asked again."""
    stale = reset_stale()
    for archive_id in stale:
        build_archive.delay(archive_id)
    return len(stale)

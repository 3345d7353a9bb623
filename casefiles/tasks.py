from celery import shared_task

from .building import archive_build


@shared_task(ignore_result=True)
def build_archive(archive_id: int) -> None:
    """Queued after the commit that asked for the archive; safe to run twice (the build is
    claimed with a conditional UPDATE)."""
    archive_build(archive_id=archive_id)

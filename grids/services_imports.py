"""Starting an admin CSV upload: the job row, then the Celery task once it is committed."""

from django.db import transaction

from .models import ImportJob, User
from .tasks import run_import_job


def import_job_start(*, kind: str, uploaded_file, actor: User) -> ImportJob:
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind, file=uploaded_file, original_name=uploaded_file.name, created_by=actor
        )
        transaction.on_commit(lambda: run_import_job.delay(job.pk))
    return job

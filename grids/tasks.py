from celery import shared_task

from . import import_jobs


@shared_task(acks_late=True)
def run_import_job(job_id: int) -> str:
    """Thin wrapper: the work (and the claim that makes a redelivery harmless) is a service."""
    job = import_jobs.import_job_run(job_id=job_id)
    return job.status if job else "skipped"

"""The worker's part of the mediation papers: render, then store (printing.py)."""

import logging

from celery import shared_task

from .printing import document_failed, document_finish, render

log = logging.getLogger(__name__)


@shared_task(acks_late=True)
def render_document(document_id: int) -> float | None:
    try:
        result = render(document_id)
    except Exception as exc:
        # The page shows "failed, try again" rather than waiting forever.
        log.exception("mediation document %s failed to render", document_id)
        document_failed(document_id=document_id, error=str(exc))
        return None
    document_finish(document_id=document_id, **result)
    return result["seconds"]

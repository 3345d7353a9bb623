"""Printed papers: a request makes a pending Document and queues its rendering after
commit; the worker renders and stores it (printing.py)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import StateConflict
from disputes.ledger import require

from ..models import Agreement, Document, DocumentKind, DocumentStatus, MediationSession
from ..permissions import may_mediate
from ..tasks import render_document

# A render that has not finished in this long is taken to have died with its worker; asking
# again then queues a new one instead of waiting forever.
STALE_SECONDS = 300


def _queue(document: Document) -> None:
    transaction.on_commit(lambda: render_document.delay(document.pk))


@transaction.atomic
def document_request(
    *,
    case,
    actor,
    kind: str,
    session: MediationSession | None = None,
    agreement: Agreement | None = None,
) -> Document:
    """Ask for a paper to be printed. The same paper of the same text asked twice (a double
    tap, two people) is one rendering: the pending or ready document is returned."""
    require(may_mediate(actor, case))
    if kind == DocumentKind.RECORD and (session is None or not session.record):
        raise StateConflict(_("The session has no record to print yet."))
    if kind == DocumentKind.AGREEMENT and (agreement is None or agreement.frozen):
        raise StateConflict(_("A signed agreement's file is made when the last person signs."))
    revision = agreement.revision if agreement else (session.version if session else 0)
    existing = (
        Document.objects.select_for_update()
        .filter(case=case, kind=kind, session=session, agreement=agreement, revision=revision)
        .exclude(status=DocumentStatus.FAILED)
        .order_by("-pk")
        .first()
    )
    if existing is not None and not _stale(existing):
        return existing
    document = Document.objects.create(
        case=case,
        kind=kind,
        session=session,
        agreement=agreement,
        revision=revision,
        requested_by=actor,
    )
    _queue(document)
    return document


def final_document(agreement: Agreement, actor) -> Document:
    """The signed agreement's PDF, queued by the service that froze it."""
    document = Document.objects.create(
        case_id=agreement.case_id,
        kind=DocumentKind.AGREEMENT,
        agreement=agreement,
        revision=agreement.revision,
        final=True,
        requested_by=actor,
    )
    _queue(document)
    return document


def _stale(document: Document) -> bool:
    age = (timezone.now() - document.created_at).total_seconds()
    return document.status == DocumentStatus.PENDING and age > STALE_SECONDS

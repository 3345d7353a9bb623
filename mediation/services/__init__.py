"""Every write of the mediation app (one transaction each, a timeline entry each)."""

from .agreements import agreement_create, agreement_new_version, agreement_update
from .documents import document_request
from .performance import confirmation_apply, confirmation_record, obligation_perform
from .sessions import session_cancel, session_record, session_schedule
from .signing import signature_add, signature_scan

__all__ = [
    "agreement_create",
    "agreement_new_version",
    "agreement_update",
    "confirmation_apply",
    "confirmation_record",
    "document_request",
    "obligation_perform",
    "session_cancel",
    "session_record",
    "session_schedule",
    "signature_add",
    "signature_scan",
]

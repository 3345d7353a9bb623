"""Every state change of a case. Each function locks the case row, checks who may act and
whether the transition is legal, writes the change and its CaseEvent in one transaction,
and returns the case. Errors:

- PermissionDenied: the actor may not do this (403/404 at the edges);
- ValidationError: bad input, with field messages (400), nothing saved;
- TransitionError: the case is not in a state that allows this (409), nothing saved.

Callers use `services.<name>`; the functions live in filing, workflow, escalation,
departments and corrections."""

from ..attachments import attachment_check
from ..ledger import TransitionError
from .corrections import CorrectionConflict, case_correct, may_correct
from .departments import task_progress, task_report, task_return, task_sign, task_verify
from .escalation import (
    case_dispatch,
    case_escalate,
    case_pause_clock,
    case_raise_risk,
    case_resume_clock,
    deadlines_place_estimates,
    escalate_locked,
    extension_decide,
    extension_request,
)
from .filing import FilingKeyReused, case_file, case_file_once
from .supervision import card_answer, card_issue, may_answer
from .tracking import tracking_sms_stop
from .verification import case_verify, may_check
from .workflow import (
    case_accept,
    case_assign,
    case_attach,
    case_close,
    case_progress,
    case_record,
    case_record_outcome,
    case_refer,
    case_reopen,
    case_resolve,
    case_resubmit,
    case_send_back,
    case_withdraw,
)

__all__ = [
    "CorrectionConflict",
    "FilingKeyReused",
    "TransitionError",
    "attachment_check",
    "card_answer",
    "card_issue",
    "case_accept",
    "case_assign",
    "case_attach",
    "case_close",
    "case_correct",
    "case_dispatch",
    "case_escalate",
    "case_file",
    "case_file_once",
    "case_pause_clock",
    "case_progress",
    "case_raise_risk",
    "case_record",
    "case_record_outcome",
    "case_refer",
    "case_reopen",
    "case_resolve",
    "case_resubmit",
    "case_resume_clock",
    "case_send_back",
    "case_verify",
    "case_withdraw",
    "deadlines_place_estimates",
    "escalate_locked",
    "extension_decide",
    "extension_request",
    "may_answer",
    "may_check",
    "may_correct",
    "task_progress",
    "task_report",
    "task_return",
    "task_sign",
    "task_verify",
    "tracking_sms_stop",
]

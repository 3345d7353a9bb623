"""What every mediation service does first: lock the case (the same lock, in the same order,
as the case's own workflow), check who acts, and put the step on the case's timeline."""

from disputes.ledger import TransitionError, lock_case, require
from disputes.models import CaseEvent, CaseStatus
from disputes.services import case_record

from ..permissions import may_mediate

S = CaseStatus
# A case is mediated once someone holds it and until it is closed; papers of a resolved case
# (a signature still to collect, performance, confirmation) are kept up too.
MEDIATING = (S.ASSIGNED, S.IN_MEDIATION)
AFTER_AGREEMENT = (S.ASSIGNED, S.IN_MEDIATION, S.RESOLVED, S.CLOSED)


def locked_case(case, actor, statuses, action: str):
    """The case under its lock; PermissionDenied (403) for someone who may not mediate it,
    TransitionError (409) in a state where this cannot be done."""
    case = lock_case(case)
    require(may_mediate(actor, case))
    if case.status not in statuses:
        raise TransitionError(case, action)
    return case


def record(case, actor, step: str, note: str, **data):
    return case_record(
        case=case,
        kind=CaseEvent.Kind.MEDIATION,
        actor=actor,
        note=note,
        data={"step": step, **data},
    )

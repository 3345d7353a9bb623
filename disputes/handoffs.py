"""Who learns of each step of a case: the person who must act next, or who is waiting for
it. Called by ledger.append_event for every timeline entry a person's action writes, inside
the same transaction (the inbox row commits with the change; email/SMS leave through the
outbox after commit, outside quiet hours).

- filed / resubmitted → the handling unit's assigners (a grid-level case: its grid worker),
  and the lead department's liaisons when the type has one;
- accepted / sent back → the filer;
- assigned → the mediator and the assisting staff;
- progress → the filer (the grid worker who brought the case);
- resolved → whoever checks and closes it: the handling unit's assigners (and the filing
  grid worker when the policy has them check on site);
- the check failed → the mediator and the assisting staff;
- closed / reopened / withdrawn / referred elsewhere → the filer, the mediator and the
  handling unit;
- corrected (更正) → the handling unit (the new one, when the correction moved the case;
  the service tells the one it left), the mediator and the filer;
- a department signed for, returned or reported completion → the handling unit (the
  dispatching centre). The verification of a department's report notifies in its service.

One notification per person per event, and never to the person who acted. Escalation,
dispatch, extensions and breaches notify in their own services (they have other readers)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from common.prepared import Prepared
from grids.models import Assignment, Role, User
from notifications.services import ASSIGNER_ROLES, notify
from sla.models import VerifyBy

from .models import Case, CaseEvent, Channel, HandlingLevel

K = CaseEvent.Kind
TITLES = {
    K.FILED: gettext_noop("New case to handle: %(number)s"),
    K.RESUBMITTED: gettext_noop("Case resubmitted with more information: %(number)s"),
    K.ACCEPTED: gettext_noop("Your case was accepted: %(number)s"),
    K.SENT_BACK: gettext_noop("Your case was sent back: %(number)s"),
    K.ASSIGNED: gettext_noop("Case assigned to you: %(number)s"),
    K.PROGRESS: gettext_noop("Progress on your case: %(number)s"),
    K.RESOLVED: gettext_noop("Case resolved, to close: %(number)s"),
    K.CLOSED: gettext_noop("Case closed: %(number)s"),
    K.REOPENED: gettext_noop("Case reopened: %(number)s"),
    K.WITHDRAWN: gettext_noop("Case withdrawn: %(number)s"),
    K.REFERRED: gettext_noop("Case referred elsewhere: %(number)s"),
    K.DEPT_SIGNED: gettext_noop("The department signed for case %(number)s"),
    K.DEPT_RETURNED: gettext_noop("The department returned case %(number)s"),
    K.DEPT_REPORTED: gettext_noop("Department's completion report to verify: %(number)s"),
    K.CORRECTED: gettext_noop("Case record corrected: %(number)s"),
    K.VERIFY_FAILED: gettext_noop("The check did not confirm the resolution: %(number)s"),
}


def _holders(roles: tuple, column: str) -> Prepared:
    """The users holding one of `roles` at a time, at the area or department given to the
    read (`column`): compiled once per connection (every hand-off reads it)."""

    def build(value: int, at):
        holders = Assignment.objects.active(at).filter(role__in=roles, **{column: value})
        return User.objects.filter(pk__in=holders.values("user_id"))

    return Prepared(build)


# The queue's staff; at grid level its grid workers too. A department's liaisons.
UNIT = _holders(ASSIGNER_ROLES, "area_id")
GRID_UNIT = _holders((*ASSIGNER_ROLES, Role.GRID_WORKER), "area_id")
LIAISONS = _holders((Role.DEPARTMENT_LIAISON,), "department_id")


def _unit(case: Case) -> list[User]:
    """The people who run the case's queue now."""
    read = GRID_UNIT if case.handling_level == HandlingLevel.GRID else UNIT
    return read.rows(case.handling_area_id, timezone.now())


def _liaisons(case: Case) -> list[User]:
    if not case.lead_department_id:
        return []
    return LIAISONS.rows(case.lead_department_id, timezone.now())


def _by_id(*pks) -> list[User]:
    return list(User.objects.filter(pk__in=[pk for pk in pks if pk]))


def recipients(case: Case, kind: str) -> list[User]:
    if kind in (K.FILED, K.RESUBMITTED):
        if case.channel == Channel.RESIDENT_QR and kind == K.FILED:
            return []  # the residents app tells the unit itself, with the report's details
        return _unit(case) + _liaisons(case)
    if kind in (K.ACCEPTED, K.SENT_BACK, K.PROGRESS):
        return _by_id(case.filed_by_id)
    if kind == K.ASSIGNED:
        return _by_id(case.mediator_id, *case.assistants.values_list("pk", flat=True))
    if kind == K.RESOLVED:
        # Whoever checks it: the unit, and the filing grid worker when the policy says so.
        on_site = case.verify_due_at and case.sla_policy.verify_by == VerifyBy.FILER
        return _unit(case) + (_by_id(case.filed_by_id) if on_site else [])
    if kind == K.VERIFY_FAILED:
        return _by_id(case.mediator_id, *case.assistants.values_list("pk", flat=True))
    if kind in (K.DEPT_SIGNED, K.DEPT_RETURNED, K.DEPT_REPORTED):
        return _unit(case)  # the dispatching centre waits for the department's answer
    if kind in (K.CLOSED, K.REOPENED, K.WITHDRAWN, K.REFERRED, K.CORRECTED):
        return _by_id(case.filed_by_id, case.mediator_id) + _unit(case)
    return []


def tell(event: CaseEvent) -> None:
    """Notify the next people of this event (see the module's docstring)."""
    template = TITLES.get(event.kind)
    if template is None:
        return
    case = event.case
    people = {u.pk: u for u in recipients(case, event.kind) if u.pk != event.actor_id}
    if not people:
        return
    notify(
        users=people.values(),
        case=case,
        kind=f"case_{event.kind}",
        title=_(template) % {"number": case.number},
        body="\n".join(part for part in (case.cause, event.note) if part),
    )

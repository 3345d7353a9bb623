"""The SLA sweep: records breaches and acts on them; it never decides what users see (the
colour is computed from stored deadlines, see sla.py).

Each due case is handled in its own short transaction:
1. lock the row, but only if it still has the next-check time we read (compare-and-set) and
   nobody else holds it (SKIP LOCKED) — an overlapping sweep or a user's action in flight
   simply makes us skip it;
2. record each newly missed deadline once, as a CaseEvent stamped at the true deadline;
3. notify, escalate if the policy says so, and set the next check time.
A user action takes the same row lock, so it is never overwritten or undone by the sweep.
"""

import contextlib
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import sla
from .models import Case, CaseEvent

FLAG_FOR = {
    "not_assigned": "breached_assign",
    "not_handled": "breached_first_update",
    "past_close": "breached_close",
}


@dataclass
class SweepResult:
    checked: int = 0
    breaches: int = 0
    skipped: int = 0


def sla_sweep_step(*, now: datetime | None = None, batch: int = 500) -> SweepResult:
    now = now or timezone.now()
    result = SweepResult()
    after: tuple[datetime, int] | None = None
    while True:
        due = Case.objects.filter(sla_next_check_at__lte=now)
        if after is not None:
            # Keyset paging: rows we skipped (locked by someone else) do not come back.
            due = due.filter(
                Q(sla_next_check_at__gt=after[0]) | Q(sla_next_check_at=after[0], pk__gt=after[1])
            )
        rows = list(
            due.order_by("sla_next_check_at", "pk").values_list("pk", "sla_next_check_at")[:batch]
        )
        for pk, checked_at in rows:
            breaches = _check_case(pk, checked_at, now)
            if breaches is None:
                result.skipped += 1
            else:
                result.checked += 1
                result.breaches += breaches
        if len(rows) < batch:
            return result
        after = (rows[-1][1], rows[-1][0])


class _LostRace(Exception):
    pass


def _check_case(pk: int, checked_at: datetime, now: datetime) -> int | None:
    try:
        with transaction.atomic():
            return _check_locked(pk, checked_at, now)
    except _LostRace:
        return None


def _check_locked(pk: int, checked_at: datetime, now: datetime) -> int | None:
    case = (
        Case.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("handling_area", "sla_policy", "area", "category")
        .filter(pk=pk, sla_next_check_at=checked_at)
        .first()
    )
    if case is None:
        return None
    already = sla.breached_reasons(case)
    missed = sorted(
        (
            (due, reason)
            for reason, due in sla.pending_deadlines(case).items()
            if reason not in already and due <= now
        ),
        key=lambda item: (item[0], list(sla.REASONS).index(item[1])),
    )
    for due, reason in missed:
        setattr(case, FLAG_FOR[reason], True)
        CaseEvent.objects.create(
            case=case, kind=CaseEvent.Kind.SLA_BREACH, actor=None, at=due,
            from_status=case.status, to_status=case.status, note=str(sla.REASONS[reason]),
            data={"reason": reason, "deadline": due.isoformat()},
        )  # fmt: skip
        _notify_breach(case, reason)
    next_check = sla.next_check_at(case, already | {r for _due, r in missed})
    updated = Case.objects.filter(pk=pk, sla_next_check_at=checked_at).update(
        breached_assign=case.breached_assign,
        breached_first_update=case.breached_first_update,
        breached_close=case.breached_close,
        sla_next_check_at=next_check,
    )
    if not updated:  # SQLite has no row locks: the compare-and-set is the guard there
        raise _LostRace
    case.sla_next_check_at = next_check
    if (
        any(r == "past_close" for _due, r in missed)
        and case.sla_policy
        and (case.sla_policy.auto_escalate_on_red)
    ):
        from .services import TransitionError, _escalate_locked

        # At the top level already: the red colour and the notices stand.
        with contextlib.suppress(TransitionError):
            _escalate_locked(case, actor=None, reason=str(sla.REASONS["past_close"]))
    return len(missed)


def _notify_breach(case: Case, reason: str):
    from django.utils.translation import gettext as _

    from grids.models import Role

    from .notifications import ASSIGNER_ROLES, holders, notify
    from .services import _parent_queue

    if reason == "not_assigned":
        users = holders(area=case.handling_area, roles=ASSIGNER_ROLES)
        if case.handling_level == "grid":
            users += holders(area=case.handling_area, roles=[Role.GRID_WORKER])
    elif reason == "not_handled":
        users = [case.mediator, *holders(area=case.community, roles=[Role.COMMUNITY_SECRETARY])]
    else:
        _level, parent = _parent_queue(case)
        users = holders(area=parent or case.handling_area, roles=ASSIGNER_ROLES)
    notify(
        users=users,
        case=case,
        kind=f"sla_{reason}",
        title=_("%(reason)s: %(number)s") % {"reason": sla.REASONS[reason], "number": case.number},
        body=case.cause,
    )

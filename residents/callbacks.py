"""Callbacks (回访): every month each street calls back a random share of its closed cases
(all its unsatisfied ones first) and records what the resident said."""

import math
import random
import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from disputes import services as case_services
from disputes.models import Case, CaseEvent, CaseStatus
from grids.models import Area, AreaLevel, Assignment, Role, User
from notifications.services import notify

from . import conf, permissions
from .models import CallbackDraw, CallbackPolicy, CallbackTask, Rating, Satisfaction
from .services import Conflict, require


def month_start(value: date | datetime) -> date:
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    return value.replace(day=1)


def previous_month(today: date | None = None) -> date:
    first = month_start(today or timezone.localdate())
    return month_start(first - timedelta(days=1))


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) in local time."""
    start = month_start(month)
    following = month_start(start + timedelta(days=32))
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(start, datetime.min.time()), tz),
        timezone.make_aware(datetime.combine(following, datetime.min.time()), tz),
    )


def street_share(street: Area) -> Decimal:
    policy = CallbackPolicy.objects.filter(street=street).first()
    return policy.share if policy else conf.callback_share()


def callback_sample(
    *, population: list[int], required: list[int], share: Decimal, seed: int
) -> list[int]:
    """The cases to call back: every required one, plus a seeded random sample of the others
    so that at least ceil(share × population) of the population is covered. Pure and
    deterministic: the same arguments give the same ids."""
    population = sorted(set(population))
    required_set = set(required)
    target = math.ceil(Decimal(share) * len(population))
    covered = len(required_set.intersection(population))
    others = [pk for pk in population if pk not in required_set]
    extra = random.Random(seed).sample(others, min(max(target - covered, 0), len(others)))
    return sorted(required_set.union(extra))


def _closed_in(month: date, streets: list[Area]) -> dict[int, dict[int, datetime]]:
    """street id → {case id: closed_at} for cases closed in the month and still closed."""
    start, end = month_bounds(month)
    rows = Case.objects.filter(
        status=CaseStatus.CLOSED,
        closed_at__gte=start,
        closed_at__lt=end,
        street_id__in=[s.pk for s in streets],
    ).values_list("street_id", "pk", "closed_at")
    found: dict[int, dict[int, datetime]] = {}
    for street_id, pk, closed_at in rows:
        found.setdefault(street_id, {})[pk] = closed_at
    return found


def _unsatisfied(month: date, streets: list[Area]) -> dict[int, dict[int, datetime]]:
    """street id → {case id: closed_at} for closed cases whose current closing was rated
    unsatisfied, closed or rated in the month, and never called back about that closing.
    (A case closed on the 30th and rated on the 2nd is caught by the next month's draw.)"""
    start, end = month_bounds(month)
    called = CallbackTask.objects.filter(case=OuterRef("case"), closed_at=OuterRef("closed_at"))
    rows = (
        Rating.objects.filter(
            satisfaction=Satisfaction.UNSATISFIED,
            case__status=CaseStatus.CLOSED,
            case__street_id__in=[s.pk for s in streets],
        )
        .filter(closed_at=F("case__closed_at"))
        .filter(
            Q(closed_at__gte=start, closed_at__lt=end)
            | Q(created_at__gte=start, created_at__lt=end)
        )
        .filter(~Exists(called))
        .values_list("case__street_id", "case_id", "closed_at")
    )
    found: dict[int, dict[int, datetime]] = {}
    for street_id, pk, closed_at in rows:
        found.setdefault(street_id, {})[pk] = closed_at
    return found


def callback_draw_month(
    *, month: date, actor: User | None = None, seed: int | None = None, streets=None
) -> list[tuple[CallbackDraw, bool]]:
    """Draw every street's callbacks for a month: [(draw, created)]. Idempotent: a street
    already drawn for the month keeps its draw and gets no new tasks."""
    month = month_start(month)
    if month >= month_start(timezone.localdate()):
        raise ValidationError({"month": [_("Only a month that has ended can be drawn.")]})
    streets = list(streets if streets is not None else Area.objects.filter(level=AreaLevel.STREET))
    done = dict(
        CallbackDraw.objects.filter(month=month, street__in=streets).values_list("street_id", "pk")
    )
    todo = [s for s in streets if s.pk not in done]
    closed = _closed_in(month, todo)
    unsatisfied = _unsatisfied(month, todo)
    results = [(CallbackDraw.objects.get(pk=pk), False) for pk in done.values()]
    for street in todo:
        results.append(
            _draw_street(
                street=street,
                month=month,
                actor=actor,
                seed=seed if seed is not None else secrets.randbits(62),
                closed=closed.get(street.pk, {}),
                unsatisfied=unsatisfied.get(street.pk, {}),
            )
        )
    return results


def _draw_street(*, street, month, actor, seed, closed, unsatisfied) -> tuple[CallbackDraw, bool]:
    share = street_share(street)
    chosen = callback_sample(
        population=list(closed), required=list(unsatisfied), share=share, seed=seed
    )
    closings = {**closed, **unsatisfied}
    try:
        with transaction.atomic():
            draw = CallbackDraw.objects.create(
                street=street,
                month=month,
                seed=seed,
                share=share,
                population_ids=sorted(closed),
                required_ids=sorted(unsatisfied),
                chosen_ids=chosen,
                created_by=actor,
            )
            CallbackTask.objects.bulk_create(
                [
                    CallbackTask(
                        draw=draw,
                        case_id=pk,
                        street=street,
                        closed_at=closings[pk],
                        reason=CallbackTask.Reason.UNSATISFIED
                        if pk in unsatisfied
                        else CallbackTask.Reason.SAMPLED,
                    )
                    for pk in chosen
                ]
            )
            if chosen:
                callers = Assignment.objects.active().filter(
                    area=street, role__in=(Role.STREET_STAFF, Role.STREET_LEADER)
                )
                notify(
                    users=User.objects.filter(pk__in=callers.values("user_id")),
                    case=None,
                    kind="callbacks_drawn",
                    title=_("%(count)d callbacks to make for %(month)s")
                    % {"count": len(chosen), "month": f"{month:%Y-%m}"},
                )
    except IntegrityError:
        # Another worker drew this street first; theirs stands.
        return CallbackDraw.objects.get(street=street, month=month), False
    return draw, True


@transaction.atomic
def callback_record(
    *,
    task: CallbackTask,
    actor: User,
    reached: bool,
    settled: bool | None = None,
    satisfaction: str = "",
    notes: str = "",
) -> CallbackTask:
    """Record one call. Not reached: try again later. "Not really settled": the case is
    reopened through disputes.case_reopen."""
    locked = CallbackTask.objects.select_for_update(of=("self",)).select_related("street")
    task = locked.get(pk=task.pk)
    require(permissions.does_callbacks(actor, task.street))
    if task.status == CallbackTask.Status.DONE:
        raise Conflict(_("This callback has already been recorded."))
    notes = (notes or "").strip()
    errors = {}
    if not isinstance(reached, bool):
        errors["reached"] = [_("Say whether the resident was reached.")]
    elif reached:
        if not isinstance(settled, bool):
            errors["settled"] = [_("Say whether the dispute is really settled.")]
        if satisfaction not in Satisfaction.values:
            errors["satisfaction"] = [_("Choose how satisfied the resident is.")]
    elif settled is not None or satisfaction:
        errors["reached"] = [_("A resident who was not reached cannot answer.")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    task.attempts += 1
    task.reached, task.done_by, task.done_at = reached, actor, now
    task.notes = f"{task.notes}\n{notes}".strip() if task.notes and notes else (notes or task.notes)
    if reached:
        task.status, task.settled, task.satisfaction = (
            CallbackTask.Status.DONE,
            settled,
            satisfaction,
        )
    else:
        task.status = CallbackTask.Status.UNREACHED
    case = Case.objects.select_related("handling_area").get(pk=task.case_id)
    case_services.case_record(
        case=case,
        kind=CaseEvent.Kind.CALLBACK,
        actor=actor,
        note=notes,
        data={
            "reached": reached,
            "settled": settled,
            "satisfaction": satisfaction,
            "attempt": task.attempts,
        },
    )
    if reached and settled is False and case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        reason = _("Callback: the dispute is not really settled.")
        case_services.case_reopen(case=case, actor=actor, reason=f"{reason}\n{notes}".strip())
        task.reopened = True
    task.save()
    return task

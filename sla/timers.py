"""Exactly-once timers for deadlines that are not a case's own SLA steps.

Other apps arm a timer when a deadline starts (`arm`), disarm it when the thing is done in
time (`disarm`) and register one handler per kind (`@handler("app.what")`, in their
AppConfig.ready()). The beat sweep (disputes.tasks.sla_sweep, every minute) calls `sweep()`.

Exactly once, the same way as the case sweep: a batch of due timers of one kind is claimed
with SELECT … FOR UPDATE SKIP LOCKED (a timer another sweep or a user's change holds is left
for a later tick), marked fired, and handed to the handler, all in one transaction. If the
handler raises, nothing of the batch fires and a later tick tries again; if another sweep
fired a row between our read and our write (SQLite, which has no row locks), the count
check rolls the batch back. A sweep that runs days late fires each timer once, and the
handler gets the true deadline (`Due.due_at`) to stamp its events with.

Handlers that act on an object a user may change at the same moment should lock that object
(select_for_update) and check its state: the timer says "the deadline passed", the handler
decides whether it still matters.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from common.bulk import insert_rows

from .models import Timer

log = logging.getLogger(__name__)

# Timers per transaction: a handler writes a few rows per timer; 500 keeps a batch short.
BATCH = 500


@dataclass(frozen=True)
class Due:
    kind: str
    object_id: int
    case_id: int | None
    due_at: datetime


Handler = Callable[[list[Due], datetime], None]
HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function called with the due timers of `kind` (a list) and now."""

    def register(function: Handler) -> Handler:
        if HANDLERS.get(kind, function) is not function:
            raise ValueError(f"a handler for timer kind {kind!r} is registered already")
        HANDLERS[kind] = function
        return function

    return register


def arm(kind: str, object_id: int, due_at: datetime, *, case_id: int | None = None) -> None:
    """Start (or move) the deadline of `kind` for one object; a fired timer fires again."""
    Timer.objects.bulk_create(
        [Timer(kind=kind, object_id=object_id, case_id=case_id, due_at=due_at)],
        update_conflicts=True,
        unique_fields=["kind", "object_id"],
        update_fields=["due_at", "fired_at", "case"],
    )


def arm_many(kind: str, items: Iterable[tuple[int, datetime, int | None]]) -> None:
    """`arm` for many objects at once: (object_id, due_at, case_id) each. One statement of
    column arrays (common.bulk): the sweep arms 20,000 card timers in a busy tick, which as
    model instances cost seconds of Python."""
    insert_rows(
        Timer,
        ("object_id", "due_at", "case_id", "fired_at"),
        [(o, d, c, None) for o, d, c in items],
        constants={"kind": kind},
        upsert=(("kind", "object_id"), ("due_at", "fired_at", "case")),
    )


def arm_once(kind: str, items: Iterable[tuple[int, datetime, int | None]]) -> None:
    """Arm timers not armed yet; one armed already (pending or fired) is left as it is, so
    arming again from several places never fires twice."""
    Timer.objects.bulk_create(
        [Timer(kind=kind, object_id=o, due_at=d, case_id=c) for o, d, c in items],
        ignore_conflicts=True,
    )


def disarm(kind: str, object_id: int) -> None:
    Timer.objects.filter(kind=kind, object_id=object_id).delete()


def pending(kind: str, object_id: int) -> datetime | None:
    """When the timer will fire, or None (not armed, or fired already)."""
    return (
        Timer.objects.filter(kind=kind, object_id=object_id, fired_at__isnull=True)
        .values_list("due_at", flat=True)
        .first()
    )


def sweep(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Fire every due timer of every registered kind once; returns how many fired."""
    now = now or timezone.now()
    fired = 0
    for kind in sorted(HANDLERS):
        while True:
            claimed = _fire_batch(kind, now, batch)
            fired += claimed
            if claimed < batch:
                break
    return fired


class _LostRace(Exception):
    pass


def _fire_batch(kind: str, now: datetime, batch: int) -> int:
    rows = []
    try:
        with transaction.atomic():
            rows = list(
                Timer.objects.select_for_update(skip_locked=True)
                .filter(kind=kind, fired_at__isnull=True, due_at__lt=now)
                .order_by("due_at", "pk")
                .values_list("pk", "object_id", "case_id", "due_at")[:batch]
            )
            if not rows:
                return 0
            marked = Timer.objects.filter(
                pk__in=[row[0] for row in rows], fired_at__isnull=True
            ).update(fired_at=now)
            if marked != len(rows):
                raise _LostRace
            HANDLERS[kind]([Due(kind, *row[1:]) for row in rows], now)
            return len(rows)
    except _LostRace:
        return 0
    except Exception:
        # One kind's failing handler must not stop the others (nor the case sweep after
        # it); its timers stay due and the next tick retries them.
        log.exception("timer handler for %s failed; %d timers stay due", kind, len(rows))
        return 0

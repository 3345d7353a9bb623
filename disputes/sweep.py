"""The SLA sweep: records breaches and acts on them; it never decides what users see (the
colour is computed from stored deadlines, see clock.py).

Due cases (SlaCheck.next_check_at passed) are taken in batches, each in one short
transaction:
1. lock the batch's SlaCheck rows, but only those nobody else holds (SKIP LOCKED) and whose
   next-check time is still the one we read (compare-and-set) — an overlapping sweep or a
   user's action in flight (services lock the SlaCheck row first) simply makes us skip a
   case, and a later tick takes it;
2. record each newly missed deadline once, as a CaseEvent stamped at the true deadline,
   each warning before a running deadline once, stamped at its warning time, and each
   missed period of the progress limit once, stamped at its end (breaches.py);
3. notify, mark the case for escalation if its policy escalates on red, and set the next
   check time, written under the same compare-and-set, so on SQLite (no row locks) a lost
   race rolls the batch back.
A user action takes the same lock, so it is never overwritten or undone by the sweep; and
the batch writes no case row (only SlaCheck rows, events, notifications): the wide case
table, with its thirty indexes, is only read.

Escalations come after the batch commits, each in a short transaction of its own through
the escalation service (`_escalate_due`). Done inside the batch, 500 of them held 5,000
cases locked for 12 s, and a user's click on any of them waited that long. The mark
(SlaCheck.escalation_due) is written with the breach, so an escalation decided and not yet
done when the worker dies is done by the next tick. The whole tick starts one delivery task
for its email/SMS, not one per escalation.

A transaction per batch rather than per case, one UPDATE and bulk INSERTs per batch, and
recipients looked up once per area for the whole sweep: see bench_sla.py for the figures.
On PostgreSQL a tick with more than one batch works them on SLA_SWEEP_THREADS connections
at once: the batches claim disjoint rows, and most of their time is the database's."""

import contextlib
import contextvars
import itertools
import queue
import threading
from collections import namedtuple
from dataclasses import dataclass, fields
from datetime import datetime

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import BooleanField, DateTimeField, F, PositiveIntegerField, Q, Value, When
from django.db.models import Case as When_
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.models import Role, User
from notifications.services import (
    ASSIGNER_ROLES,
    Holders,
    Message,
    Recipient,
    notify_many,
    one_delivery_task,
)
from sla import clock
from sla.clock import FLAG_FOR, WARNED_FLAG
from sla.models import SlaCheck, SlaPolicy

from .breaches import (
    Records,
    breach_row,
    missed_deadlines,
    progress_labels,
    progress_passed,
    warning_row,
)
from .ledger import TransitionError, lock_case
from .live import announce_many
from .models import Case
from .routing import ESCALATABLE, parent_queue_area_id
from .services import escalate_locked
from .services.supervision import issue_auto_cards

# Cases per transaction: large enough that per-statement and per-commit costs (a WAL flush
# each, ~80 ms on the reference machine) stay small at 10,000 due cases, small enough that a
# user action waiting on a claimed case waits about a second at worst. SQLite (development)
# takes smaller batches: its statements are limited in parameters. With two workers
# (_threads) a 10,000-case tick is four batches, two at a time (bench_sla.py).
BATCH = 2500
SQLITE_BATCH = 500


@dataclass
class SweepResult:
    checked: int = 0
    breaches: int = 0
    warnings: int = 0
    skipped: int = 0
    escalated: int = 0


class _Lookups:
    """What one sweep looks up once rather than per case: who holds which role at an area,
    and the policies (a handful of rows)."""

    def __init__(self):
        self.holders = Holders()
        self.policies: dict[int, SlaPolicy] = {}

    def policies_for(self, ids: set[int | None]) -> dict[int, SlaPolicy]:
        missing = ids - set(self.policies) - {None}
        if missing:
            self.policies.update(SlaPolicy.objects.in_bulk(missing))
        return self.policies


def sla_sweep_step(*, now: datetime | None = None, batch: int | None = None) -> SweepResult:
    with one_delivery_task():
        return _sweep(now or timezone.now(), batch)


def _sweep(now: datetime, batch: int | None) -> SweepResult:
    batch = batch or (BATCH if connection.vendor == "postgresql" else SQLITE_BATCH)
    result = SweepResult()
    batches = _due_batches(now, batch)
    first = next(batches, None)
    if first is None:
        return result  # the idle tick: one indexed read
    threads = _threads()
    if threads > 1 and len(first) == batch:
        _sweep_in_threads(first, batches, now, threads, result)
        return result
    lookups = _Lookups()
    for read in itertools.chain([first], batches):
        _check_batch(read, now, result, lookups)
    return result


def _due_batches(now: datetime, batch: int):
    """The due SlaCheck rows, {pk: (next check, version)} per batch, oldest first."""
    after: tuple[datetime, int] | None = None
    while True:
        # A deadline is missed once it has passed (`now > due`, as clock.evaluate says), so a
        # step done exactly at its deadline is on time and never recorded as a breach.
        due = SlaCheck.objects.filter(next_check_at__lt=now)
        if after is not None:
            # Keyset paging: rows we skipped (locked by someone else) do not come back.
            due = due.filter(
                Q(next_check_at__gt=after[0]) | Q(next_check_at=after[0], pk__gt=after[1])
            )
        rows = list(
            due.order_by("next_check_at", "pk").values_list("pk", "next_check_at", "version")[
                :batch
            ]
        )
        if rows:
            yield {pk: (at, version) for pk, at, version in rows}
        if len(rows) < batch:
            return
        after = (rows[-1][1], rows[-1][0])


def _threads() -> int:
    """Batches worked at once. Most of a busy tick is PostgreSQL's work (inserting events,
    notifications, cards and timers, then checking their foreign keys at commit), during
    which a single sweep leaves the other cores idle; batches claim disjoint rows (SKIP
    LOCKED), so they need no order between them. Only on PostgreSQL, and not inside a
    transaction (a test's, or a caller's): other connections could not see its rows."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return max(1, int(getattr(settings, "SLA_SWEEP_THREADS", 2)))


def _sweep_in_threads(first: dict, more, now: datetime, threads: int, result: SweepResult):
    """Batches handed to `threads` workers, each on its own connection (closed when it is
    done) with its own lookups; the due list is read ahead by this thread meanwhile. A
    failure in a batch stops the reading and is raised here once the others finish."""
    work: queue.Queue = queue.Queue(maxsize=threads)
    lock = threading.Lock()
    failed: list[BaseException] = []

    def worker():
        lookups = _Lookups()
        try:
            while (read := work.get()) is not None:
                if failed:
                    continue  # drain: the tick is failing
                part = SweepResult()
                try:
                    _check_batch(read, now, part, lookups)
                except BaseException as exc:  # re-raised by the sweep's own thread
                    failed.append(exc)
                with lock:
                    for name in (f.name for f in fields(SweepResult)):
                        setattr(result, name, getattr(result, name) + getattr(part, name))
        finally:
            connections.close_all()  # this thread's connections only

    # One delivery task for the whole tick: the workers see this thread's context.
    pool = [
        threading.Thread(target=contextvars.copy_context().run, args=(worker,), daemon=True)
        for _ in range(threads)
    ]
    for thread in pool:
        thread.start()
    try:
        for read in itertools.chain([first], more):
            if failed:
                break
            work.put(read)
    finally:
        for _thread in pool:
            work.put(None)
        for thread in pool:
            thread.join()
    if failed:
        raise failed[0]


class _LostRace(Exception):
    pass


def _check_batch(read: dict[int, tuple], now: datetime, result: SweepResult, lookups):
    checked = breaches = warnings = 0
    escalate: list[int] = []
    with contextlib.suppress(_LostRace), transaction.atomic():
        checked, breaches, warnings, escalate = _check_locked(read, now, lookups)
    result.checked += checked
    result.breaches += breaches
    result.warnings += warnings
    result.skipped += len(read) - checked
    reason = str(clock.REASONS["past_close"])
    for pk in escalate:  # committed: the batch's locks are released
        result.escalated += _escalate_due(pk, now, reason)


@transaction.atomic
def _escalate_due(pk: int, now: datetime, reason: str) -> bool:
    """Do an escalation the batch decided on: one case, locked like any user action (a
    user holding it is waited for; they wait for at most this one case). Escalated only if
    it is still open, still red and still on a policy that escalates; the mark is cleared
    either way."""
    case = lock_case(Case(pk=pk))
    check = clock.check_of(case)
    if not check.escalation_due:
        return False  # done meanwhile (another sweep)
    check.escalation_due = False
    if _escalates_on_red(case) and "past_close" in clock.evaluate(case, now)[1]:
        # At the top level already: the red colour and the notices stand.
        with contextlib.suppress(TransitionError):
            escalate_locked(case, actor=None, reason=reason)  # re-arms, clearing the mark
            return True
    clock.rearm(case)
    return False


# The SlaCheck columns the sweep reads and writes: the flags, then the times.
_WRITTEN_FLAGS = (*FLAG_FOR.values(), "escalation_due", *WARNED_FLAG.values())
_WRITTEN_TIMES = ("progress_due_at", "warn_progress_at")


class _Check:
    """A SlaCheck row as the sweep reads it (flags and times), without a model."""

    __slots__ = ("next_check_at", *_WRITTEN_FLAGS, *_WRITTEN_TIMES)

    def __init__(self, next_check_at, *values):
        self.next_check_at = next_check_at
        for name, value in zip((*_WRITTEN_FLAGS, *_WRITTEN_TIMES), values, strict=True):
            setattr(self, name, value)


# The columns of a case the SLA rules and the notices read. A tick with 10,000 due cases
# spent more time building Case instances (sixty fields each) than PostgreSQL spent on the
# whole batch; a named tuple of these, plus its check and policy, is all clock.py needs.
CASE_FIELDS = (
    "pk",
    "number",
    "cause",
    "status",
    "sla_policy_id",
    "handling_level",
    "handling_area_id",
    "district_id",
    "street_id",
    "community_id",
    "grid_id",
    "mediator_id",
    "assign_due_at",
    "first_update_due_at",
    "close_due_at",
    "assigned_at",
    "first_progress_at",
    "resolved_at",
    "closed_at",
    "withdrawn_at",
    "referred_at",
    "reopened_at",
    "clock_paused_at",
    "area_id",  # with the ancestors above: the dashboards told of a breach (live.announce)
)
_SweepCase = namedtuple("_SweepCase", (*CASE_FIELDS, "sla_check", "sla_policy"))
# The claim's row: version, then the check (next check, flags, times), then the case's.
_CHECK_COLUMNS = ("next_check_at", *_WRITTEN_FLAGS, *_WRITTEN_TIMES)
_CASE_COLUMNS = tuple("case_id" if f == "pk" else f"case__{f}" for f in CASE_FIELDS)
_CASE = 1 + len(_CHECK_COLUMNS)
_POLICY = _CASE + CASE_FIELDS.index("sla_policy_id")


def _ids_in(ids) -> Q:
    """pk IN ids; on PostgreSQL as one array parameter (Django prepares one per id, which
    shows at thousands of ids)."""
    if connection.vendor == "postgresql":
        return Q(pk__in=RawSQL("SELECT unnest(%s::bigint[])", [list(ids)]))
    return Q(pk__in=list(ids))


def _check_locked(read: dict[int, tuple], now: datetime, lookups) -> tuple[int, int, int, list]:
    # One statement claims the SlaCheck rows (SKIP LOCKED: a row a user's change or another
    # sweep holds is left for a later tick) and reads their cases. Compare-and-set on the
    # version read with the due list: a case changed since (by a change committed before
    # our lock, whose case row this statement's snapshot may predate) is theirs, and the
    # next tick looks at it afresh. Once we hold the lock, no change can start until we
    # commit. Related rows are looked up once per sweep (policies, role holders) or per
    # batch (mediators to notify); only an escalation, which is rare, loads more.
    rows = [
        row
        for row in SlaCheck.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(_ids_in(read))
        .order_by("pk")
        .values_list("version", *_CHECK_COLUMNS, *_CASE_COLUMNS)
        if (row[1], row[0]) == read[row[_CASE]]  # (next check, version) as read
    ]
    if not rows:
        return 0, 0, 0, []
    policies = lookups.policies_for({row[_POLICY] for row in rows})
    cases = [
        _SweepCase._make((*row[_CASE:], _Check(*row[1:_CASE]), policies.get(row[_POLICY])))
        for row in rows
    ]
    labels = {reason: str(label) for reason, label in clock.REASONS.items()}  # gettext once
    warn_labels = {reason: str(label) for reason, label in clock.WARNINGS.items()}
    progress_notes = progress_labels()
    records, notices, escalate, cards, card_on, announced = Records(), [], [], [], {}, []
    recorded_at = timezone.now()
    for case in cases:
        check = case.sla_check
        deadlines = clock.pending_and_late(case)
        # Warnings first: a deadline missed during an outage is warned (at its warning
        # time) as well as breached, and the breach's flag would hide the warning.
        for warn, reason, due in clock.warnings_due(case, now, deadlines):
            records.warnings.append(warning_row(case, warn, reason, due, warn_labels[reason]))
            if now <= due:  # a warning after its deadline is evidence only
                notices.append((case, WARNING, reason))
        missed = missed_deadlines(case, now, deadlines)
        if missed:
            announced.append(case)  # sent once the batch commits, one message per group
        for due, reason, still_open in missed:
            records.breaches.append(breach_row(case, due, reason, labels[reason]))
            # A step done late since is evidence only: nobody is left to chase.
            if still_open:
                notices.append((case, BREACH, reason))
                cards.append((case, reason, due))  # a yellow card, answerable by the unit
                card_on[(case.pk, reason)] = records.breaches[-1][-1]  # told on the breach
                if reason == "past_close" and _escalates_on_red(case):
                    check.escalation_due = True
        progress = progress_passed(case, now, records, progress_notes)
        if progress.missed:
            notices.append((case, BREACH, "no_progress"))
        if progress.warned_now:
            notices.append((case, WARNING, "no_progress"))
        check.next_check_at = clock.next_check_at(case, clock.breached_reasons(case), deadlines)
        if check.escalation_due:  # decided now, or by a tick that did not get to it
            escalate.append(case.pk)
            check.next_check_at = min(check.next_check_at or now, now)
    _save(cases, read)
    announce_many(announced)
    issue_auto_cards(cards, policies, recorded_at, on_events=card_on)
    records.insert(recorded_at)  # with the cards' ids in their breaches' data
    _notify(notices, lookups.holders)
    breaches = len(records.breaches) + len(records.overdue)
    return len(cases), breaches, len(records.warnings), escalate


def _escalates_on_red(case) -> bool:
    # A case sent back to its filer is not escalated by hand either.
    return bool(case.sla_policy and case.sla_policy.auto_escalate_on_red) and (
        case.status in ESCALATABLE
    )


def _save(cases: list, read: dict[int, tuple]):
    """One UPDATE of the batch's SlaCheck rows: the breach flags, the next check time and a
    new version, on condition that every row still has the next check and version we read
    (under our row locks it has; without row locks, on SQLite, a difference means we lost a
    race: the batch is rolled back)."""
    if connection.vendor == "postgresql":
        updated = _save_from_values(cases, read)
    else:
        updated = _save_with_case(cases, read)
    if updated != len(cases):
        raise _LostRace


def _save_from_values(cases: list, read: dict[int, tuple]) -> int:
    """UPDATE … FROM unnest(arrays): one array per column, joined on the id. Django's CASE
    WHEN per row (bulk_update) costs seconds to build and run at 10,000 rows, and even a
    VALUES list means parsing 70,000 literals; arrays go over as one parameter each."""
    quote = connection.ops.quote_name
    flags = list(_WRITTEN_FLAGS)
    checks = [case.sla_check for case in cases]

    def iso(moment):  # as text, cast by the server: see bulk.insert_rows
        return None if moment is None else moment.isoformat()

    times = list(_WRITTEN_TIMES)
    params = [
        [case.pk for case in cases],
        [iso(read[case.pk][0]) for case in cases],
        [read[case.pk][1] for case in cases],
        [iso(check.next_check_at) for check in checks],
        *([getattr(check, name) for check in checks] for name in flags),
        *([iso(getattr(check, name)) for check in checks] for name in times),
    ]
    column, version = quote("next_check_at"), quote("version")
    sql = (
        f"UPDATE {quote(SlaCheck._meta.db_table)} AS c SET {column} = v.next_check, "
        f"{version} = v.version + 1, "
        + ", ".join(f"{quote(name)} = v.{name}" for name in (*flags, *times))
        + " FROM unnest(%s::bigint[], %s::timestamptz[], %s::bigint[], %s::timestamptz[]"
        + ", %s::boolean[]" * len(flags)
        + ", %s::timestamptz[]" * len(times)
        + f") AS v(id, checked_at, version, next_check, {', '.join((*flags, *times))}) "
        f"WHERE c.{quote(SlaCheck._meta.pk.column)} = v.id AND c.{column} = v.checked_at "
        f"AND c.{version} = v.version"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _save_with_case(cases: list, read: dict[int, tuple]) -> int:
    """The same with CASE WHEN per row, for databases without UPDATE … FROM (VALUES) typing
    (SQLite, where a sweep is small)."""

    def each(value_of, field):
        whens = [When(pk=case.pk, then=Value(value_of(case))) for case in cases]
        return When_(*whens, output_field=field)

    def flag(name):
        hits = [case.pk for case in cases if getattr(case.sla_check, name)]
        return When_(
            When(pk__in=hits, then=Value(True)), default=Value(False), output_field=BooleanField()
        )

    return SlaCheck.objects.filter(
        pk__in=[case.pk for case in cases],
        next_check_at=each(lambda case: read[case.pk][0], DateTimeField()),
        version=each(lambda case: read[case.pk][1], PositiveIntegerField()),
    ).update(
        next_check_at=each(lambda case: case.sla_check.next_check_at, DateTimeField()),
        version=F("version") + 1,
        **{name: flag(name) for name in _WRITTEN_FLAGS},
        **{
            name: each(lambda case, name=name: getattr(case.sla_check, name), DateTimeField())
            for name in _WRITTEN_TIMES
        },
    )


# What a notice is about: a deadline missed, or one coming (its warning).
BREACH, WARNING = "breach", "warning"


def _recipients(case, what: str, reason: str) -> tuple[bool, list[tuple[int, tuple]]]:
    """(tell the mediator?, [(area, roles)] whose holders to tell) for one notice. Who must
    act: the assigners for an assignment; the mediator for handling, progress and closing
    (their unit when nobody mediates yet). A missed step also reaches those who chase it:
    the community secretary (handling), the level above (closing), the unit (progress)."""
    unit = case.handling_area_id
    if reason == "not_assigned":
        lookups = [(unit, ASSIGNER_ROLES)]
        if case.handling_level == "grid":
            lookups.append((unit, (Role.GRID_WORKER,)))
        return False, lookups
    if what == BREACH and reason == "not_handled":
        return True, [(case.community_id, (Role.COMMUNITY_SECRETARY,))]
    if what == BREACH and reason == "past_close":
        return False, [(parent_queue_area_id(case) or unit, ASSIGNER_ROLES)]
    if what == BREACH:  # a missed progress period
        return True, [(unit, ASSIGNER_ROLES)]
    if case.mediator_id is not None:
        return True, []
    return False, [(unit, ASSIGNER_ROLES)]


def _notify(notices: list[tuple[Case, str, str]], holders):
    """One notification per recipient per breach or warning, written for the whole batch
    at once."""
    if not notices:
        return
    title = _("%(reason)s: %(number)s")  # translated once, not per breach
    labels = {
        BREACH: {
            **{reason: str(label) for reason, label in clock.REASONS.items()},
            "no_progress": str(clock.PROGRESS_OVERDUE),
        },
        WARNING: {reason: str(label) for reason, label in clock.WARNINGS.items()},
    }
    wanted = [(case, what, why, *_recipients(case, what, why)) for case, what, why in notices]
    holders.prefetch(area for *_notice, lookups in wanted for area, _roles in lookups)
    wanted_mediators = {case.mediator_id for case, _w, _r, mediator, _l in wanted if mediator}
    mediators = {
        pk: Recipient(pk, is_active)
        for pk, is_active in User.objects.filter(pk__in=wanted_mediators - {None}).values_list(
            "pk", "is_active"
        )
    }
    messages = []
    for case, what, reason, mediator, lookups in wanted:
        users = [mediators.get(case.mediator_id)] if mediator else []
        for area, roles in lookups:
            users += holders.get(area, roles)
        messages.append(
            Message(
                users=users,
                case=case,
                kind=f"sla_{reason}" if what == BREACH else f"sla_warn_{reason}",
                title=title % {"reason": labels[what][reason], "number": case.number},
                body=case.cause,
            )
        )
    notify_many(messages)

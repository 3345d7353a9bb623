"""The SLA sweep racing users and other sweeps, on PostgreSQL with real row locks.

Each actor runs in its own thread with its own database connection, closed at the end:
- a user holding a case (mid-action) makes the sweep skip it, not wait, and a later tick
  takes it up, without undoing the user's change;
- a user action committed between the sweep's read and its claim makes the compare-and-set
  fail: no event, nothing overwritten;
- a user acting while the sweep holds the case waits and then works on the swept row;
- two sweeps at once record each breach once and notify each recipient once.

Deadlines are moved into the past with an UPDATE (real time: the threads share the clock).
SQLite has no row locks to race on: these tests need PostgreSQL."""

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from disputes import services, sweep
from disputes.models import Case, CaseEvent, CaseStatus, Outcome
from disputes.sweep import SweepResult, sla_sweep_step
from notifications.models import Notification
from sla import clock
from sla.models import SlaCheck
from tests.conftest import service_missing
from tests.disputes.test_sla_engine import World, assign_case, file, progress
from tests.disputes.test_sla_engine_sweep import build

pytestmark = pytest.mark.django_db(transaction=True)

S = CaseStatus
K = CaseEvent.Kind
WAIT = 30  # seconds: a bound for a hung thread, never a pause


@pytest.fixture(autouse=True)
def _settings(settings, celery_eager):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Delivery runs in-process on commit; no quiet hours, whatever the hour of the test run.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "notifications.backends.MemorySmsBackend"
    settings.NOTIFY_QUIET_HOURS = (0, 0)


@pytest.fixture
def world(transactional_db):
    if connection.vendor != "postgresql":
        service_missing("sweep race tests need PostgreSQL (set DATABASE_URL)")
    return World()


class Actor(threading.Thread):
    """Runs `work` in a thread with its own connection; keeps the result or the error."""

    def __init__(self, work: Callable[[], object]):
        super().__init__(daemon=True)
        self.work = work
        self.result = self.error = None

    def run(self):
        try:
            self.result = self.work()
        except BaseException as exc:  # re-raised by finish() in the test thread
            self.error = exc
        finally:
            connection.close()

    def finish(self):
        self.join(WAIT)
        assert not self.is_alive(), "thread hung"
        if self.error is not None:
            raise self.error
        return self.result


def run(work: Callable[[], object]):
    actor = Actor(work)
    actor.start()
    return actor.finish()


def overdue(case: Case, reason: str, ago: timedelta = timedelta(minutes=5)) -> Case:
    """Move one deadline into the past, as if time had passed (next check: that deadline)."""
    column = {"not_assigned": "assign_due_at", "not_handled": "first_update_due_at",
              "past_close": "close_due_at"}[reason]  # fmt: skip
    due = timezone.now() - ago
    Case.objects.filter(pk=case.pk).update(**{column: due})
    SlaCheck.objects.filter(case=case).update(next_check_at=due)
    case.refresh_from_db()
    return case


def breaches(case: Case) -> list[tuple[str, object]]:
    events = case.events.filter(kind=K.SLA_BREACH).order_by("at", "id")
    return [(e.data["reason"], e.at) for e in events]


def wait_until_blocked():
    """Until another connection of this database waits for a row lock (polled, bounded)."""
    deadline = timezone.now() + timedelta(seconds=WAIT)
    with connection.cursor() as cursor:
        while timezone.now() < deadline:
            # pg_stat_activity is a snapshot per transaction, and the caller is in one.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
    raise AssertionError("nobody ever waited for the lock")


def hold_while(action: Callable[[], object], locked: threading.Event, release: threading.Event):
    """A user action whose transaction stays open (row lock held) until `release`."""

    def work():
        with transaction.atomic():
            result = action()
            locked.set()
            assert release.wait(WAIT)
        return result

    return work


def close_case(w: World, case: Case) -> Case:
    case = services.case_resolve(case=case, actor=w.mediator, outcome=Outcome.AGREEMENT)
    return services.case_close(case=case, actor=w.secretary)


@pytest.mark.parametrize("action", ["assign", "close"])
def test_it_skips_a_case_a_user_holds_and_takes_it_up_once_they_commit(world, action):
    if action == "assign":
        case = overdue(file(world), "not_assigned")
        reason, due = "not_assigned", case.assign_due_at

        def act():
            return assign_case(world, Case.objects.get(pk=case.pk))
    else:
        case = overdue(progress(world, assign_case(world, file(world))), "past_close")
        reason, due = "past_close", case.close_due_at

        def act():
            return close_case(world, Case.objects.get(pk=case.pk))

    locked, release = threading.Event(), threading.Event()
    user = Actor(hold_while(act, locked, release))
    user.start()
    assert locked.wait(WAIT)

    during = run(sla_sweep_step)  # returns at once: SKIP LOCKED, no waiting

    assert during == SweepResult(checked=0, breaches=0, skipped=1)
    assert breaches(case) == []
    release.set()
    user.finish()

    after = run(sla_sweep_step)

    assert after == SweepResult(checked=1, breaches=1, skipped=0)
    assert breaches(case) == [(reason, due)]  # the breach happened, and is on record once
    case.refresh_from_db()
    if action == "assign":  # the user's change stands, untouched
        assert (case.status, case.mediator, case.assigned_on_time) == (
            S.ASSIGNED, world.mediator, False,
        )  # fmt: skip
        assert case.sla_check.next_check_at == case.first_update_due_at
    else:
        assert (case.status, case.closed_on_time, case.sla_check.next_check_at) == (S.CLOSED, False,
                                                                              None)  # fmt: skip
    assert not Notification.objects.filter(kind__startswith="sla_").exists()  # done already
    assert run(sla_sweep_step) == SweepResult()


def test_it_writes_nothing_when_a_user_commits_between_its_read_and_its_claim(world, monkeypatch):
    case = overdue(progress(world, assign_case(world, file(world))), "past_close")
    old_due = case.close_due_at
    request = services.extension_request(case=case, actor=world.mediator, days=10,
                                         reason="等待鉴定")  # fmt: skip
    original = sweep._check_batch
    calls = []

    def approve_first(read, now, result, holders):
        if not calls:  # the due rows are read; the claim has not happened yet
            calls.append(run(lambda: services.extension_decide(
                extension=request, actor=world.street, approve=True)))  # fmt: skip
        return original(read, now, result, holders)

    monkeypatch.setattr(sweep, "_check_batch", approve_first)

    result = run(sla_sweep_step)

    assert result == SweepResult(checked=0, breaches=0, skipped=1)
    # Approved after the deadline had passed: the approval itself records the missed
    # deadline (once, at the deadline) before moving it, so the extension hides nothing.
    assert breaches(case) == [("past_close", old_due)]
    case.refresh_from_db()
    assert case.close_due_at == old_due + timedelta(days=10)  # the user's change stands
    assert case.sla_check.next_check_at == case.close_due_at
    assert not case.sla_check.breached_close
    assert clock.evaluate(case, timezone.now()) == (clock.GREEN, [])
    assert run(sla_sweep_step) == SweepResult()  # and there is nothing to catch up on


def test_it_leaves_a_case_changed_after_its_read_to_the_next_tick(world, monkeypatch):
    """The user assigns (late) between the sweep's read of the due list and its claim, and
    the next check time stays what it was (the late deadline is still to be recorded): the
    version tells the sweep the case changed, so it leaves it; the next tick records the
    breach from the fresh row, once, with no reminder to assign an assigned case."""
    case = overdue(file(world), "not_assigned")
    due = case.assign_due_at
    original = sweep._check_batch
    calls = []

    def assign_first(read, now, result, holders):
        if not calls:
            calls.append(run(lambda: assign_case(world, Case.objects.get(pk=case.pk))))
        return original(read, now, result, holders)

    monkeypatch.setattr(sweep, "_check_batch", assign_first)

    result = run(sla_sweep_step)

    assert result == SweepResult(checked=0, breaches=0, skipped=1)
    assert SlaCheck.objects.get(case=case).next_check_at == due  # unchanged by the user
    assert breaches(case) == []
    assert run(sla_sweep_step) == SweepResult(checked=1, breaches=1, skipped=0)
    assert breaches(case) == [("not_assigned", due)]
    assert not Notification.objects.filter(kind__startswith="sla_").exists()
    case.refresh_from_db()
    assert (case.status, case.mediator) == (S.ASSIGNED, world.mediator)


def test_it_makes_a_user_wait_while_it_holds_the_case_then_the_user_wins(world, monkeypatch):
    case = overdue(file(world), "not_assigned")
    original = sweep._notify
    user = Actor(lambda: assign_case(world, Case.objects.get(pk=case.pk)))

    def user_arrives(notices, holders):
        # Inside the sweep's transaction, after its UPDATE: the row is the sweep's.
        user.start()
        wait_until_blocked()
        return original(notices, holders)

    monkeypatch.setattr(sweep, "_notify", user_arrives)

    result = run(sla_sweep_step)
    user.finish()

    assert result == SweepResult(checked=1, breaches=1, skipped=0)
    case.refresh_from_db()
    check = case.sla_check
    assert (case.status, case.mediator, check.breached_assign) == (S.ASSIGNED, world.mediator,
                                                                   True)  # fmt: skip
    assert case.sla_check.next_check_at == case.first_update_due_at  # re-armed by the user's save
    assert breaches(case) == [("not_assigned", case.assign_due_at)]
    # The sweep's notices only (filing and the user's assignment told people too: hand-offs).
    sla_notices = Notification.objects.filter(kind__startswith="sla_")
    assert Counter(sla_notices.values_list("kind", "recipient__username")) == {
        ("sla_not_assigned", "secretary"): 1,
    }


def test_it_records_each_breach_once_when_two_sweeps_run_at_once(world):
    now = timezone.now()
    cases = [
        build(world, n, grid=n % 2, filed=now - timedelta(hours=24, minutes=n + 1))
        for n in range(1, 121)
    ]
    Case.objects.bulk_create(cases)
    SlaCheck.objects.bulk_create([case.sla_check for case in cases])
    barrier = threading.Barrier(2)

    def sweep_now():
        barrier.wait(WAIT)
        return sla_sweep_step(batch=10)

    sweeps = [Actor(sweep_now) for _ in range(2)]
    for actor in sweeps:
        actor.start()
    results = [actor.finish() for actor in sweeps]

    assert sum(r.breaches for r in results) == 120
    assert sum(r.checked for r in results) == 120
    events = CaseEvent.objects.filter(kind=K.SLA_BREACH)
    recorded = Counter(events.values_list("case_id", flat=True))
    assert recorded == {case.pk: 1 for case in Case.objects.all()}
    sla_notices = Notification.objects.filter(kind__startswith="sla_")
    told = Counter(sla_notices.values_list("case_id", "recipient__username"))
    assert told == {(case.pk, "secretary"): 1 for case in Case.objects.all()}
    assert run(sla_sweep_step) == SweepResult()


def test_a_storm_of_escalations_never_holds_a_user_for_the_whole_tick(world, monkeypatch, settings):
    """500 cases turn red at once on a policy that escalates on red. The tick records the
    500 breaches in one short batch and escalates each case in a transaction of its own, so
    a mediator writing progress on one of them mid-storm is answered while the tick is still
    running (before, every escalation ran inside the batch's transaction: 12.3 s for 500,
    and a click on any of them waited that long). Timings are printed; the bound on the
    wait is asserted by the benchmark (bench_sla --storm), not here."""
    world.policy.auto_escalate_on_red = True
    world.policy.save()
    now = timezone.now()
    # Email and SMS held (quiet hours now): Celery runs eagerly here, and the user's commit
    # would otherwise deliver the storm's messages in the user's own thread, which a worker
    # does elsewhere.
    hour = timezone.localtime(now).hour
    settings.NOTIFY_QUIET_HOURS = (hour, (hour + 2) % 24)
    filed = now - timedelta(days=30, minutes=5)
    cases = [
        build(world, n, grid=n % 2, filed=filed, assigned=filed, progressed=filed)
        for n in range(1, 501)
    ]
    Case.objects.bulk_create(cases)
    SlaCheck.objects.bulk_create([case.sla_check for case in cases])
    target = max(case.pk for case in Case.objects.all())  # escalated last (in id order)
    midway, escalations = threading.Event(), []
    original = sweep._escalate_due

    def counted(pk, *args):
        escalated = original(pk, *args)
        escalations.append(pk)
        if len(escalations) == 50:
            midway.set()
        return escalated

    monkeypatch.setattr(sweep, "_escalate_due", counted)
    started = time.monotonic()
    tick = Actor(lambda: (sla_sweep_step(), time.monotonic())[::-1])
    tick.start()
    assert midway.wait(WAIT)
    clicked = time.monotonic()
    services.case_progress(
        case=Case.objects.get(pk=target), actor=world.mediator, note="已联系双方当事人"
    )
    answered = time.monotonic()
    connection.close()
    finished, result = tick.finish()

    assert answered < finished  # served during the storm, not after it
    assert (result.breaches, result.escalated) == (500, 500)
    assert Case.objects.filter(handling_level="street", status=S.FILED).count() == 500
    assert CaseEvent.objects.filter(kind=K.ESCALATED).count() == 500
    assert not SlaCheck.objects.filter(escalation_due=True).exists()
    target_case = Case.objects.get(pk=target)
    assert [e.kind for e in target_case.events.order_by("id")][-2:] == [K.PROGRESS, K.ESCALATED]
    print(
        f"\nstorm of 500: tick {finished - started:.2f} s; "
        f"the mediator's progress answered in {answered - clicked:.3f} s"
    )

"""The SLA sweep through real Celery workers on Redis, against the test database.

Two worker processes (`celery -A grid_governance worker --pool=solo`) consume a private
Redis database (REDIS_URL, every key prefixed by the run's own KEY_PREFIX and deleted
afterwards; nothing else in that database is touched) and connect to the very PostgreSQL
database this test writes to (committed data: a transactional test). The workers run on the
real clock, so time cannot be travelled there: the case's deadlines are moved into the past
with an UPDATE, step by step, and the sweep is sent as a task each time: green → orange (not
assigned) → red (past its closing deadline), the last step by two sweeps sent at once to two
workers, with 200 other cases crossing a deadline at the same moment. Every wait is a
bounded poll."""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone

from disputes import tasks as _registers_the_sweep_task  # noqa: F401  (shared_task)
from disputes.models import Case, CaseEvent
from notifications.models import Notification, OutboxMessage
from sla import clock
from sla.models import SlaCheck
from tests.conftest import service_missing
from tests.disputes.test_sla_engine import World, file
from tests.disputes.test_sla_engine_sweep import build

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
WAIT = 30  # seconds for a task or a delivery
START = 60  # seconds for a worker to come up on a busy machine
SWEEP = "disputes.tasks.sla_sweep"
K = CaseEvent.Kind


# Every key this test's Celery client and workers write starts with this, so the test
# shares the Redis database it was given with anything else and deletes only its own keys.
KEY_PREFIX = f"sla-it-{uuid.uuid4().hex[:8]}:"


def private_redis_url() -> str:
    """REDIS_URL (or its database SLA_IT_REDIS_DB, if set): the keys are kept apart by
    KEY_PREFIX, never by flushing a database."""
    if not settings.REDIS_URL:
        service_missing("the Celery integration test needs REDIS_URL")
    url = settings.REDIS_URL
    if os.environ.get("SLA_IT_REDIS_DB"):
        parts = urlsplit(url)
        url = urlunsplit(parts._replace(path=f"/{os.environ['SLA_IT_REDIS_DB']}"))
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        service_missing(f"Redis at {settings.REDIS_URL} is not reachable: {exc}")
    return url


def live_database_url() -> str:
    """The database this test process writes to (pytest-django's test database)."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
    return f"postgres://{auth}@{host}/{quote(db['NAME'], safe='')}"


class Workers:
    """Worker processes with their logs, started and always stopped by the test."""

    def __init__(self, count: int, *, redis_url: str, logs: Path):
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "grid_governance.settings",
            "DATABASE_URL": live_database_url(),
            "REDIS_URL": redis_url,
            "CELERY_KEY_PREFIX": KEY_PREFIX,
            "DEBUG": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY", "test-only-key"),
            "CELERY_TASK_ALWAYS_EAGER": "0",
            # Delivery right after the sweep commits, whatever the hour of the test run.
            "NOTIFY_QUIET_HOURS": "0-0",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "SMS_BACKEND": "notifications.backends.MemorySmsBackend",
        }
        self.logs = [logs / f"worker-{i}.log" for i in range(count)]
        self.processes = []
        tag = uuid.uuid4().hex[:8]
        for i, log in enumerate(self.logs):
            command = [
                sys.executable, "-m", "celery", "-A", "grid_governance", "worker",
                "--pool=solo", "--loglevel=INFO", f"--hostname=sla-it-{tag}-{i}@%h",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ]  # fmt: skip
            with log.open("wb") as out:
                self.processes.append(
                    subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
                )  # fmt: skip

    def wait_ready(self):
        deadline = time.monotonic() + START
        while time.monotonic() < deadline:
            for process, log in zip(self.processes, self.logs, strict=True):
                if process.poll() is not None:
                    raise AssertionError(f"a worker exited early:\n{self.tail(log)}")
            if all(b" ready." in log.read_bytes() for log in self.logs):
                return
            time.sleep(0.2)  # polling a log file, not waiting for the clock to move
        raise AssertionError("workers not ready:\n" + "\n".join(map(self.tail, self.logs)))

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)

    @staticmethod
    def tail(log: Path) -> str:
        return "\n".join(log.read_text(errors="replace").splitlines()[-40:])

    def report(self) -> str:
        return "\n".join(self.tail(log) for log in self.logs)


def poll(condition, what: str, workers: Workers, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{workers.report()}")


def move_deadline(case: Case, column: str, *, next_check: bool = True) -> Case:
    due = timezone.now() - timedelta(seconds=30)
    Case.objects.filter(pk=case.pk).update(**{column: due})
    if next_check:
        SlaCheck.objects.filter(case=case).update(next_check_at=due)
    case.refresh_from_db()
    return case


def colour(case: Case):
    case.refresh_from_db()
    return clock.evaluate(case, timezone.now())


def test_a_real_worker_sweeps_a_case_from_green_to_orange_to_red(tmp_path, settings):
    redis_url = private_redis_url()
    if connection.vendor != "postgresql":
        service_missing("the Celery integration test needs PostgreSQL (set DATABASE_URL)")
    # The workers send at once whatever the hour (their NOTIFY_QUIET_HOURS): so do the
    # notices this process writes while arranging the case (hand-offs), or the outbox would
    # wait for the morning when the suite runs at night.
    settings.NOTIFY_QUIET_HOURS = (0, 0)
    client = Celery("sla-integration-test", broker=redis_url, backend=redis_url)
    client.conf.task_default_queue = "celery"
    client.conf.broker_transport_options = {"global_keyprefix": KEY_PREFIX}
    client.conf.result_backend_transport_options = {"global_keyprefix": KEY_PREFIX}
    import redis

    store = redis.Redis.from_url(redis_url)
    world = World()
    case = file(world)
    workers = Workers(2, redis_url=redis_url, logs=tmp_path)

    # The project's task, bound to a client app on the private Redis database. The task
    # ignores its result in production (beat does not wait); here the test waits for it.
    sla_sweep = client.tasks[SWEEP]

    def sweep(count: int = 1) -> list[dict]:
        sent = [sla_sweep.apply_async(ignore_result=False) for _ in range(count)]
        try:
            # The test process is not a task; earlier in-process (eager) tasks in the same
            # pytest run can leave Celery believing it is, so say so explicitly.
            return [result.get(timeout=WAIT, disable_sync_subtasks=False) for result in sent]
        except Exception as exc:
            raise AssertionError(f"sweep task failed: {exc!r}\n{workers.report()}") from exc

    try:
        workers.wait_ready()

        # Green: nothing due yet.
        assert sweep() == [
            {"checked": 0, "breaches": 0, "warnings": 0, "skipped": 0, "escalated": 0, "timers": 0}
        ]
        assert colour(case) == (clock.GREEN, [])
        assert not CaseEvent.objects.filter(kind=K.SLA_BREACH).exists()

        # Orange: the assignment deadline has passed.
        case = move_deadline(case, "assign_due_at")
        assert colour(case) == (clock.ORANGE, ["not_assigned"])
        assert sweep() == [
            {"checked": 1, "breaches": 1, "warnings": 0, "skipped": 0, "escalated": 0, "timers": 0}
        ]
        event = case.events.get(kind=K.SLA_BREACH)
        assert (event.data["reason"], event.at) == ("not_assigned", case.assign_due_at)
        case.refresh_from_db()
        assert case.sla_check.breached_assign and case.sla_check.next_check_at == case.close_due_at

        # Red: past the closing deadline too, while 200 other cases cross a deadline; two
        # sweeps sent at once, one to each worker.
        now = timezone.now()
        others = [
            build(world, n, grid=n % 2, filed=now - timedelta(hours=24, minutes=n))
            for n in range(1, 201)
        ]
        Case.objects.bulk_create(others)
        SlaCheck.objects.bulk_create([other.sla_check for other in others])
        case = move_deadline(case, "close_due_at")
        assert colour(case) == (clock.RED, ["past_close", "not_assigned"])

        results = sweep(2)

        assert sum(r["breaches"] for r in results) == 201
        assert sum(r["checked"] for r in results) == 201
        recorded = list(
            CaseEvent.objects.filter(kind=K.SLA_BREACH).values_list("case_id", "data", "at")
        )
        assert len(recorded) == 202  # the orange one and 201 new
        assert len({(pk, data["reason"]) for pk, data, _at in recorded}) == 202
        assert {(data["reason"], at) for pk, data, at in recorded if pk == case.pk} == {
            ("not_assigned", case.assign_due_at), ("past_close", case.close_due_at),
        }  # fmt: skip
        # Exactly one notification per recipient per breach, though two sweeps ran at once.
        # The sweeps' notices (filing the first case told its unit too: a hand-off).
        sla_notices = Notification.objects.filter(kind__startswith="sla_")
        told = list(sla_notices.values_list("case_id", "kind", "recipient__username"))
        assert len(told) == len(set(told)) == 202
        assert ((case.pk, "sla_past_close", "street") in told) and (
            (case.pk, "sla_not_assigned", "secretary") in told
        )
        assert colour(case) == (clock.RED, ["past_close", "not_assigned"])

        # The workers also delivered the email and SMS, each once.
        poll(lambda: not OutboxMessage.objects.exclude(status="sent").exists(),
             "the outbox to drain", workers)  # fmt: skip
        assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}
        sla_outbox = OutboxMessage.objects.filter(notification__kind__startswith="sla_")
        assert sla_outbox.count() == 2 * 201 + 1  # secretary: both; street: email

        # A tick later, nothing is left to do.
        assert sweep() == [
            {"checked": 0, "breaches": 0, "warnings": 0, "skipped": 0, "escalated": 0, "timers": 0}
        ]
    finally:
        workers.stop()
        client.close()
        # Only this run's keys (queues, bindings, results); a stopping worker may still
        # write a binding, hence a second pass.
        for _ in range(2):
            for key in store.scan_iter(f"{KEY_PREFIX}*"):
                store.delete(key)
            time.sleep(0.5)
        store.close()

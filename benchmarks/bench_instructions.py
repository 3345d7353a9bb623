"""Benchmark: one instruction to every grid worker of a city, on PostgreSQL.

Zhengzhou counts 217,000 grid workers (DOMAIN.md) and says an instruction reaches every one of
them within 10 s. On the generate_city tree (~137,000 areas) this loads 217,000 grid-worker
users and assignments (one on every micro-grid, the rest spread over the grids and dedicated
grids) with plain SQL, then has someone who sees the whole city send one instruction to all
grid workers (`instructions.services.instruction_send`, area = every area): the recipient
rows, written by one INSERT … SELECT, then the inbox notices (another, run by the task the
send queues), each timed statement by statement and end to end (commit included). Several
runs; the median is the figure.

Also timed, without a goal: the progress table per district (what the sender's page polls
every 5 s), the banner's query for one grid worker, the first page of those who have not
acknowledged, one 已签收, a reminder to all of them by SMS (inbox and outbox rows: 2 × 217,000),
and the deadline's timer handler counting who is missing.

Goal: the recipients written in ≤ 5 s (the sender's request). Their inbox notices are
written after the send commits by a Celery task (instructions/notices.py), timed apart.

    python -m benchmarks.bench_instructions [--scale 1.0] [--workers N] [--runs 3]
"""

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from datetime import timedelta

from benchmarks.bench_sla import Meter
from benchmarks.common import prepare_database, print_table, setup_django, timed

GOAL_SECONDS = 5.0
WORKERS_AT_SCALE_1 = 217_000
PREFIX = "bgw-"  # not "b-": generate_cases reads every "b-" user into memory


def ensure_grid_workers(count: int) -> bool:
    """`count` grid-worker users with one active assignment each, written by SQL (a few
    seconds for 217,000). Returns whether they had to be (re)loaded."""
    from django.db import connection

    from grids.models import Area, AreaLevel, Assignment, Role, User

    present = Assignment.objects.filter(
        role=Role.GRID_WORKER, user__username__startswith=PREFIX, ended_at__isnull=True
    ).count()
    users = User.objects.filter(username__startswith=PREFIX).count()
    if present == count == users:
        return False
    quote = connection.ops.quote_name
    user_table, area_table, assignment_table = (
        quote(m._meta.db_table) for m in (User, Area, Assignment)
    )
    micro = Area.objects.filter(level=AreaLevel.MICRO_GRID).count()
    grids = Area.objects.filter(level__in=[AreaLevel.GRID, AreaLevel.DEDICATED]).count()
    rest = max(0, count - micro)
    base, extra = divmod(rest, max(1, grids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {assignment_table} WHERE user_id IN "
            f"(SELECT id FROM {user_table} WHERE username LIKE %s)",
            [f"{PREFIX}%"],
        )
        cursor.execute(f"DELETE FROM {user_table} WHERE username LIKE %s", [f"{PREFIX}%"])
        cursor.execute(
            f"INSERT INTO {user_table} (password, last_login, is_superuser, username, "
            "first_name, last_name, email, is_staff, is_active, date_joined, real_name, phone) "
            "SELECT '!', NULL, false, %s || n, '', '', '', false, true, now(), '网格员' || n, "
            "'139' || lpad(n::text, 8, '0') FROM generate_series(1, %s) AS n",
            [PREFIX, count],
        )
        # One slot per micro-grid, then `base` (+1 for the first `extra`) per grid and
        # dedicated grid, in tree order; the n-th slot goes to user bgw-n.
        cursor.execute(
            f"WITH slots AS ("
            f" SELECT id AS area_id, path FROM {area_table} WHERE level = %s"
            f" UNION ALL"
            f" SELECT g.id, g.path FROM (SELECT id, path, row_number() OVER (ORDER BY path) AS rn"
            f"  FROM {area_table} WHERE level IN (%s, %s)) AS g"
            f"  CROSS JOIN LATERAL generate_series(1, %s + CASE WHEN g.rn <= %s THEN 1 ELSE 0 END)"
            f"), numbered AS (SELECT area_id, row_number() OVER (ORDER BY path) AS n FROM slots) "
            f"INSERT INTO {assignment_table} (user_id, role, area_id, department_id, started_at, "
            f"ended_at, note, created_at, updated_at) "
            f"SELECT u.id, %s, numbered.area_id, NULL, now() - interval '1 day', NULL, '', "
            f"now(), now() FROM numbered JOIN {user_table} u ON u.username = %s || numbered.n "
            f"WHERE numbered.n <= %s",
            [AreaLevel.MICRO_GRID.value, AreaLevel.GRID.value, AreaLevel.DEDICATED.value,
             base, extra, Role.GRID_WORKER.value, PREFIX, count],
        )  # fmt: skip
        cursor.execute(f"ANALYZE {user_table}")
        cursor.execute(f"ANALYZE {assignment_table}")
    return True


def clear_instructions() -> None:
    """Remove every instruction and what it wrote (its notices, their outbox rows, timers)."""
    from django.db import connection

    from instructions.models import (
        ACK_DUE,
        NOTICES_DUE,
        Instruction,
        InstructionEvent,
        InstructionRecipient,
    )
    from notifications.models import Notification, OutboxMessage
    from sla.models import Timer

    quote = connection.ops.quote_name
    tables = ", ".join(
        quote(m._meta.db_table) for m in (InstructionRecipient, InstructionEvent, Instruction)
    )
    notification, outbox = quote(Notification._meta.db_table), quote(OutboxMessage._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY")
        cursor.execute(
            f"DELETE FROM {outbox} WHERE notification_id IN "
            f"(SELECT id FROM {notification} WHERE kind LIKE 'instruction%%')"
        )
        cursor.execute(f"DELETE FROM {notification} WHERE kind LIKE 'instruction%%'")
        cursor.execute(f"VACUUM ANALYZE {notification}")
        cursor.execute(f"VACUUM ANALYZE {outbox}")
    Timer.objects.filter(kind__in=[ACK_DUE, NOTICES_DUE]).delete()


def _cpu(meter: dict):
    return "" if meter["cpu"] is None else meter["cpu"]


class StatementTimer:
    """An execute wrapper that adds up the time of each kind of statement."""

    def __init__(self):
        self.seconds = defaultdict(float)

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds[self.kind(sql)] += time.perf_counter() - started

    @staticmethod
    def kind(sql: str) -> str:
        head = sql.lstrip()[:160]
        if head.startswith("INSERT INTO") and "instructionrecipient" in head:
            return "recipients"
        if head.startswith("INSERT INTO") and "notification" in head:
            return "notices"
        return "other"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1.0")),
        help="size of the city, 1.0 = Zhengzhou (env BENCH_SCALE)",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, help="grid workers (default 217,000 × scale)")
    parser.add_argument("--runs", type=int, default=3, help="instructions sent, one at a time")
    args, _unknown = parser.parse_known_args(argv)  # bin/bench passes every option to all
    count = args.workers or max(100, round(WORKERS_AT_SCALE_1 * args.scale))

    print(f"== bench_instructions: one instruction to {count:,} grid workers, "
          f"scale {args.scale:g}")  # fmt: skip
    prepare_database(fresh=os.environ.get("BENCH_FRESH_DB") == "1")
    setup_django()
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from benchmarks.generate_cases import ensure_city
    from grid_governance.celery import app
    from grids.models import Area, Role, User
    from instructions import selectors, services
    from instructions.models import Instruction, InstructionRecipient
    from instructions.notices import write_notices, write_reminder_notices
    from notifications.models import Notification, OutboxMessage
    from sla import timers

    # Delivery kicks go through kombu's in-memory transport (no stray task reaches a real
    # broker), and there are no quiet hours, so a run at night measures the daytime path.
    app.conf.broker_url = "memory://"
    settings.NOTIFY_QUIET_HOURS = (0, 0)
    with timed() as t:
        areas = ensure_city(args.scale)
        loaded = ensure_grid_workers(count)
    print(f"data: {areas:,} areas, {count:,} grid workers "
          f"({'loaded' if loaded else 'reused'}; ready in {t['seconds']:.0f} s)")  # fmt: skip
    sender, _created = User.objects.get_or_create(
        username="bench-city-admin",
        defaults={"real_name": "市指挥中心", "is_superuser": True, "is_staff": True},
    )
    failures, rows, sends, alls = [], [], [], []
    meter = Meter()
    load_before = os.getloadavg()[0]
    for run in range(1, args.runs + 1):
        clear_instructions()
        statements = StatementTimer()
        # The sender's request: the service's transaction, nested in this one so that its
        # commit is timed apart.
        with connection.execute_wrapper(statements), meter() as send:
            with transaction.atomic():
                instruction = services.instruction_send(
                    actor=sender,
                    area=None,
                    roles=[Role.GRID_WORKER],
                    title=f"防汛紧急通知（第{run}次）",
                    body="各网格员立即排查辖区低洼地带、地下车库和危旧房屋，今晚20:00前报告。",
                    ack_due_at=timezone.now() + timedelta(hours=2),
                )
                sent = time.perf_counter()
            committed = time.perf_counter()
        # What the task queued on commit does (run here, in this process, to time it).
        with connection.execute_wrapper(statements), meter() as task:
            write_notices(instruction_id=instruction.pk)
        written = InstructionRecipient.objects.filter(instruction=instruction).count()
        notices = Notification.objects.filter(kind="instruction").count()
        if not written == notices == count == instruction.recipient_count:
            failures.append(
                f"run {run}: {written:,} recipients, {notices:,} notices, "
                f"{instruction.recipient_count:,} counted; expected {count:,}"
            )
        sends.append(send)
        alls.append(send["seconds"] + task["seconds"])
        seconds = statements.seconds
        rows.append((f"run {run}", written, seconds["recipients"], committed - sent,
                     send["seconds"], _cpu(send), seconds["notices"], task["seconds"],
                     _cpu(task), send["seconds"] + task["seconds"]))  # fmt: skip
    load_after = os.getloadavg()[0]
    print()
    print_table(
        ["send", "recipients", "INSERT s", "commit s", "request s", "CPU s",
         "notices INSERT s", "task s", "CPU s", "all s"],
        rows,
    )  # fmt: skip
    median = statistics.median(s["seconds"] for s in sends)
    print(f"\nrequest: the sender's send, recipients written and committed; task: the inbox "
          f"notices, written after the commit by a Celery task. CPU s: this process plus its "
          f"PostgreSQL backend, about the wall time on an idle machine. Load average "
          f"{load_before:.1f} → {load_after:.1f} on {os.cpu_count()} cores.")  # fmt: skip

    # What follows the send, on the last run's instruction.
    instruction = Instruction.objects.latest("pk")
    worker = User.objects.get(username=f"{PREFIX}1")
    after = []

    def step(label, function, repeat=1):
        times = []
        for _ in range(repeat):
            with timed() as t:
                result = function()
            times.append(t["seconds"] * 1000)
        after.append((label, statistics.median(times)))
        return result

    report = step("progress per district (the page's poll)", lambda: selectors.progress_report(
        instruction), repeat=5)  # fmt: skip
    step("the banner's query, one grid worker", lambda: selectors.pending_for(worker), repeat=20)
    step("first page of who has not acknowledged", lambda: list(
        selectors.laggard_list(instruction=instruction)[:20]), repeat=5)  # fmt: skip
    step("已签收, one grid worker", lambda: services.instruction_ack(
        instruction=instruction, actor=worker))  # fmt: skip

    reminded = step(
        "remind all: the sender's request (stamps the people)",
        lambda: services.instruction_remind(instruction=instruction, actor=sender),
    )
    event = instruction.events.filter(kind="reminded").latest("pk")
    step("remind all: the task after commit (inbox + SMS rows)",
         lambda: write_reminder_notices(event_id=event.pk))  # fmt: skip
    queued = OutboxMessage.objects.filter(channel="sms").count()

    def deadline():
        timers.arm("instructions.ack_due", instruction.pk, timezone.now() - timedelta(seconds=1))
        return timers.sweep()

    fired = step("the deadline's handler (count who is missing)", deadline)
    print()
    print_table(["after the send", "ms"], after)
    if report.overall.total != count or len(report.rows) != Area.objects.filter(depth=1).count():
        failures.append(f"progress report: {report.overall.total:,} in {len(report.rows)} rows")
    if reminded != count - 1 or queued < count - 1:
        failures.append(f"remind: {reminded:,} reminded, {queued:,} SMS queued")
    if fired != 1:
        failures.append(f"deadline timer fired {fired} times")
    clear_instructions()

    met = "met" if median <= GOAL_SECONDS else "MISSED"
    cpus = [s["cpu"] for s in sends]
    cpu = f" (CPU {statistics.median(cpus):.2f} s)" if None not in cpus else ""
    print(f"\ngoal: {count:,} recipients written in ≤ {GOAL_SECONDS:g} s — the send's median "
          f"{median:.2f} s{cpu} over {len(sends)} runs: {met}; with their inbox notices "
          f"{statistics.median(alls):.2f} s")  # fmt: skip
    for failure in failures:
        print(f"WRONG: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: the triage dashboard at city scale on PostgreSQL.

2,000,000 cases over two years on the ~137,000-area generate_city tree (generate_cases.py),
then the dashboard page (/dashboard/) as the street centre of the busiest street and as the
district centre of the busiest district: server time through Django's full request stack
(middleware, session, view, template), many runs, median and p95. Against it, the same SQL
the page ran, executed raw with a cursor (captured from one run): the ratio is what the ORM,
Python and the template add on top of the database work.

Goals: street p95 ≤ 150 ms, district p95 ≤ 400 ms, ratio (median) ≤ 2.

Also timed, reported without a goal: the stats API summary, the counts panel, and the CSV
export of about a year of the city's cases (up to 1,000,000 rows) streamed end to end, with
the process's memory before and after (streaming must keep it flat).

    python -m benchmarks.bench_dashboard [--scale 1.0] [--cases N] [--runs 40] [--no-export]
"""

import argparse
import os
import resource
import statistics
import sys
import time
from datetime import timedelta

from benchmarks.common import prepare_database, print_table, setup_django, timed

GOAL_STREET_P95_MS = 150.0
GOAL_DISTRICT_P95_MS = 400.0
GOAL_RATIO = 2.0
CASES_AT_SCALE_1 = 2_000_000


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def client_for(user):
    from django.test import Client

    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    return client


def time_get(client, url: str, runs: int, *, params=None, marker: bytes | None = None):
    """(wall-clock ms, this process's CPU ms) per request; the first three runs warm caches
    and are dropped. The CPU time is Django's own work (ORM, view, template), whatever else
    the machine is busy with; the wall-clock time adds the database and any contention."""
    times, cpu = [], []
    for run in range(runs + 3):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url, params or {})
        body = b"".join(response.streaming_content) if response.streaming else response.content
        elapsed = (time.perf_counter() - started) * 1000
        elapsed_cpu = (time.process_time() - started_cpu) * 1000
        if response.status_code != 200 or (marker and marker not in body):
            raise RuntimeError(f"{url} answered {response.status_code}: {body[:300]!r}")
        if run >= 3:
            times.append(elapsed)
            cpu.append(elapsed_cpu)
    return times, cpu


def captured_sql(client, url: str, params=None) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(url, params or {})
    return [q["sql"] for q in queries.captured_queries]


def time_sql(statements: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Milliseconds to run all the statements raw (fetching every row), and per statement."""
    from django.db import connection

    totals, per_statement = [], [0.0] * len(statements)
    with connection.cursor() as cursor:
        for run in range(runs + 3):
            total = 0.0
            for index, sql in enumerate(statements):
                started = time.perf_counter()
                cursor.execute(sql)
                if cursor.description is not None:
                    cursor.fetchall()
                elapsed = (time.perf_counter() - started) * 1000
                total += elapsed
                if run >= 3:
                    per_statement[index] += elapsed
            if run >= 3:
                totals.append(total)
    return totals, [t / runs for t in per_statement]


def time_figures(user, area, runs: int):
    """The dashboard's selectors alone (no request, no template), and the raw SQL they run:
    what the ORM adds to the same aggregations."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from dashboards import periods, stats

    def figures():
        now = timezone.now()
        period = periods.period_for(None, None)
        stats.overview(area=area, period=period, now=now)
        stats.by_category(area=area, period=period)
        stats.by_channel(area=area, period=period)
        stats.trend(area=area, period=period)
        stats.hotspots(area=area, period=period)
        stats.satisfaction_rate(area=area, period=period)
        stats.triage_queue(area=area, now=now)

    times = []
    for run in range(runs + 3):
        started = time.perf_counter()
        figures()
        if run >= 3:
            times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        figures()
    sql_totals, _per_statement = time_sql([q["sql"] for q in queries.captured_queries], runs)
    return times, sql_totals


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1.0")),
        help="size of the city, 1.0 = Zhengzhou (env BENCH_SCALE)",
    )  # fmt: skip
    parser.add_argument("--cases", type=int, help="number of cases (default 2,000,000 × scale)")
    parser.add_argument("--runs", type=int, default=40, help="timed requests per page")
    parser.add_argument("--no-export", action="store_true", help="skip the CSV export run")
    args, _unknown = parser.parse_known_args(argv)  # bin/bench passes every option to all
    count = args.cases or max(1000, round(CASES_AT_SCALE_1 * args.scale))

    print(f"== bench_dashboard: triage dashboard, {count:,} cases, scale {args.scale:g}")
    prepare_database(fresh=os.environ.get("BENCH_FRESH_DB") == "1")
    setup_django()
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from benchmarks.generate_cases import ensure_cases
    from disputes.models import OPEN_STATUSES, Case
    from grids.models import Area, User

    with timed() as t:
        data = ensure_cases(count, scale=args.scale)
    how = f"loaded in {data.seconds:.0f} s" if data.loaded else "reused"
    print(f"data: {count:,} cases ({how}; ready in {t['seconds']:.0f} s), "
          f"{Area.objects.count():,} areas, anchored at {data.now:%Y-%m-%d %H:%M} UTC")  # fmt: skip

    # The busiest street and district carry the goals (the worst case); a street of median
    # size shows the common case.
    subjects = [
        ("street", Area.objects.get(pk=data.streets[0]), "the busiest of"),
        ("median street", Area.objects.get(pk=data.streets[len(data.streets) // 2]), "median of"),
        ("district", Area.objects.get(pk=data.districts[0]), "the busiest of"),
    ]
    for label, area, which in subjects:
        cases = Case.objects.filter(**{area.level: area})
        total = len(data.streets) if area.level == "street" else len(data.districts)
        opened = cases.filter(status__in=OPEN_STATUSES).count()
        print(f"{label:>13}: {area.name} — {cases.count():,} cases, {opened:,} open "
              f"({which} {total})")  # fmt: skip

    failures = []
    rows = []
    results = {}
    # DEBUG is off, as in production, but without collectstatic's manifest: plain static
    # URLs (production's manifest lookup is one dict lookup per {% static %}).
    from django.test import override_settings

    plain_static = override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    )
    plain_static.enable()
    load_before = os.getloadavg()[0]
    for label, area, _which in subjects:
        user = (
            data.street_staff(area.pk) if area.level == "street" else data.district_staff(area.pk)
        )
        client = client_for(user)
        page, cpu = time_get(client, "/dashboard/", args.runs, marker=b'id="triage-queue"')
        statements = captured_sql(client, "/dashboard/")
        sql_totals, per_statement = time_sql(statements, args.runs)
        ratio = statistics.median(page) / statistics.median(sql_totals)
        results[label] = (page, sql_totals, ratio)
        rows.append((f"{label} dashboard page", len(page), statistics.median(page), p95(page),
                     statistics.median(cpu), f"{len(statements)} queries"))  # fmt: skip
        rows.append(("  same SQL, raw cursor", len(sql_totals), statistics.median(sql_totals),
                     p95(sql_totals), "", f"page ÷ SQL {ratio:.2f}"))  # fmt: skip
        slowest = sorted(zip(per_statement, statements, strict=True), reverse=True)[:3]
        for ms, sql in slowest:
            print(f"  {label} slowest SQL {ms:6.1f} ms: {sql[:100]}")
        figures, figures_sql = time_figures(user, area, args.runs)
        orm_ratio = statistics.median(figures) / statistics.median(figures_sql)
        rows.append((f"{label} figures (selectors)", len(figures), statistics.median(figures),
                     p95(figures), "", f"÷ their SQL {orm_ratio:.2f}"))  # fmt: skip
        api, api_cpu = time_get(client, "/api/v1/stats/summary/", args.runs)
        rows.append((f"{label} API summary", len(api), statistics.median(api), p95(api),
                     statistics.median(api_cpu), ""))  # fmt: skip
        counts, counts_cpu = time_get(client, "/dashboard/counts/", args.runs)
        rows.append((f"{label} counts panel", len(counts), statistics.median(counts),
                     p95(counts), statistics.median(counts_cpu), ""))  # fmt: skip
    load_after = os.getloadavg()[0]

    if not args.no_export:
        admin, _created = User.objects.get_or_create(
            username="b-admin", defaults={"is_superuser": True, "is_staff": True}
        )
        # Just under a million rows: about 360 of the 730 days.
        since = timezone.localdate(data.now) - timedelta(days=round(data.days * 0.49))
        client = client_for(admin)
        before = rss_mb()
        started = time.perf_counter()
        response = client.get("/dashboard/export.csv", {"filed_from": since.isoformat()})
        if response.status_code != 200:
            raise RuntimeError(f"export answered {response.status_code}")
        size = lines = 0
        peak = before
        for chunk in response.streaming_content:
            size += len(chunk)
            lines += chunk.count(b"\n")
            if lines % 100_000 < 600:
                peak = max(peak, rss_mb())
        seconds = time.perf_counter() - started
        peak = max(peak, rss_mb())
        exported = lines - 1
        expected = Case.objects.filter(filed_at__date__gte=since).count()
        if response.status_code != 200 or exported != expected:
            failures.append(f"export gave {exported:,} rows, expected {expected:,}")
        print(f"export: {exported:,} rows, {size / 1e6:.0f} MB in {seconds:.1f} s "
              f"({exported / seconds:,.0f} rows/s); process memory {before:.0f} MB → "
              f"peak {peak:.0f} MB")  # fmt: skip

    print()
    print_table(("measure", "runs", "median ms", "p95 ms", "app CPU ms", "note"), rows)
    print()
    street_p95 = p95(results["street"][0])
    district_p95 = p95(results["district"][0])
    for label, value, goal in (("street p95", street_p95, GOAL_STREET_P95_MS),
                               ("district p95", district_p95, GOAL_DISTRICT_P95_MS)):  # fmt: skip
        verdict = "met" if value <= goal else f"NOT met (by {value - goal:.0f} ms)"
        print(f"goal: {label} ≤ {goal:.0f} ms — {value:.1f} ms, {verdict}")
    for label in ("street", "district"):
        ratio = results[label][2]
        verdict = "met" if ratio <= GOAL_RATIO else "NOT met"
        print(f"goal: {label} page ÷ raw SQL ≤ {GOAL_RATIO:g} — {ratio:.2f}, {verdict}")
    print(f"database: {connection.settings_dict['NAME']}; load average {load_before:.1f} → "
          f"{load_after:.1f} while timing, on {os.cpu_count()} cores")  # fmt: skip
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

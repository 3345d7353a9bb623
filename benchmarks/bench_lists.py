"""Benchmark: case lists, search and filing at city scale (issue 12) on PostgreSQL.

2,000,000 cases on the ~137,000-area generate_city tree (generate_cases.py). For four users
— the street centre of the busiest street, of a median street, the district centre of the
busiest district, and a grid worker of the busiest grid — each list a user opens, timed
through Django's full request stack (middleware, session, view, template or serializer),
many runs, median and p95; beside each, the same SQL the request ran, executed raw with a
cursor (captured from one run): page ÷ SQL is what Python adds to the database's work.

    list page 1, a deep page (page 200: cases 3,981–4,000), search, colour filter (red),
    "most overdue first", "My cases", the list API (50 rows), a case page and its API.

The EXPLAIN of every list statement that reads disputes_case is printed (with --explain,
whole; otherwise the scans each uses), and any sequential scan of disputes_case is a
failure. Then through gunicorn (2 workers, as in production): the list page with 1 and
with 4 concurrent clients, and filing throughput with 1 and 4 concurrent clients through
the API and through the form; every number distinct. The cases filed are deleted after,
so the data set stays what ensure_cases loaded.

Goals (issue 12): list API p95 ≤ 50 ms and list page p95 ≤ 100 ms for every user; 4
concurrent clients ≤ 3 × one; search p95 ≤ 150 ms; page ÷ SQL ≤ 2; filing ≥ 100 cases/s
with 4 API clients, no errors, numbers distinct (gaps are allowed and documented).

    python -m benchmarks.bench_lists [--scale 1.0] [--cases N] [--runs 30] [--filings 400]
                                     [--explain] [--no-server] [--only-filing]
"""

import argparse
import gc
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path

from benchmarks.common import ROOT, prepare_database, print_table, setup_django, timed
from benchmarks.cpu_split import CpuSplit

CASES_AT_SCALE_1 = 2_000_000
GOAL_API_P95_MS = 50.0
GOAL_PAGE_P95_MS = 100.0
GOAL_SEARCH_P95_MS = 150.0
GOAL_RATIO = 2.0
GOAL_CONCURRENT_FACTOR = 3.0
GOAL_FILINGS_PER_S = 100.0
DEEP_PAGE = 200


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


# --- in-process: Django's full stack through the test client -------------------------------


def client_for(user):
    from django.test import Client

    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    return client


def time_get(client, url: str, runs: int) -> tuple[list[float], list[float]]:
    """(wall-clock ms, this process's CPU ms) per request; three warm-up runs are dropped.
    The CPU time is Django's own work, whatever else the machine is busy with."""
    times, cpu = [], []
    for run in range(runs + 3):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url, secure=True)
        elapsed = (time.perf_counter() - started) * 1000
        elapsed_cpu = (time.process_time() - started_cpu) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}: {response.content[:300]!r}")
        if run >= 3:
            times.append(elapsed)
            cpu.append(elapsed_cpu)
    return times, cpu


def captured_sql(client, url: str) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(url, secure=True)
    statements = []
    for query in queries.captured_queries:
        # A server-side cursor (a form's choices read with .iterator()): its SELECT.
        sql = re.sub(r'^DECLARE "\w+" NO SCROLL CURSOR WITH(?:OUT)? HOLD FOR ', "", query["sql"])
        if not sql.startswith(("FETCH ", "CLOSE ")):
            statements.append(sql)
    return statements


def time_sql(statements: list[str], runs: int) -> list[float]:
    """Milliseconds to run all the statements raw, fetching every row."""
    from django.db import connection

    totals = []
    with connection.cursor() as cursor:
        for run in range(runs + 3):
            started = time.perf_counter()
            for sql in statements:
                cursor.execute(sql)
                if cursor.description is not None:
                    cursor.fetchall()
            if run >= 3:
                totals.append((time.perf_counter() - started) * 1000)
    return totals


def explain(statements: list[str]) -> list[tuple[str, list[str]]]:
    """(statement, plan lines) for each statement that reads disputes_case."""
    from django.db import connection

    plans = []
    with connection.cursor() as cursor:
        for sql in statements:
            if '"disputes_case"' not in sql or not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + sql)
            plans.append((sql, [row[0] for row in cursor.fetchall()]))
    return plans


def scans(plan: list[str]) -> str:
    """The plan's scans of disputes_case and its indexes, compactly."""
    found = []
    for line in plan:
        if match := re.search(r"Bitmap Index Scan on (\w+)", line):
            found.append(f"Bitmap {match.group(1)}")
        elif match := re.search(r"(Seq Scan|Index Only Scan|Index Scan)(?: using (\w+))? on "
                                r"disputes_case\b(?!_)", line):  # fmt: skip
            kind, index = match.groups()
            found.append(f"{kind}{f' {index}' if index else ''}")
    return ", ".join(dict.fromkeys(found)) or "no case scan"


def seq_scans_of_cases(plan: list[str]) -> bool:
    return any(re.search(r"Seq Scan on disputes_case\b(?!_)", line) for line in plan)


# --- through gunicorn --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": os.environ.get("BENCH_WEB_WORKERS", "2"),
        # Plain HTTP on the loopback: no HTTPS redirect, cookies sent without TLS.
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
    }
    if not (ROOT / "var" / "staticfiles" / "staticfiles.json").exists():
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
                       cwd=ROOT, env=env, check=True)  # fmt: skip
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_lists_gunicorn_{port}.log"
    output = log.open("w")  # the server's output, open for as long as it runs
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "grid_governance.wsgi",
         "-c", "gunicorn.conf.py", "--access-logfile", "/dev/null"],
        cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
    )  # fmt: skip
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError(f"gunicorn did not start; see {log}")


class Http:
    """One keep-alive connection of one client, with its cookies and headers."""

    def __init__(self, port: int, *, cookies: dict | None = None, headers: dict | None = None):
        self.connection = HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies = dict(cookies or {})
        self.headers = dict(headers or {})

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        sent = {"Host": "localhost", **self.headers, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.connection.request(method, path, body=body, headers=sent)
        response = self.connection.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, data, response


def in_threads(count: int, work) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # reported by the caller
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def list_under_load(port: int, session: str, path: str, clients: int, runs: int) -> list[float]:
    def work(_index):
        http = Http(port, cookies={"sessionid": session})
        times = []
        for run in range(runs + 2):
            started = time.perf_counter()
            status, body, _response = http.request("GET", path)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}: {body[:200]!r}")
            if run >= 2:
                times.append((time.perf_counter() - started) * 1000)
        return times

    results = in_threads(clients, work)
    errors = [r for r in results if isinstance(r, Exception)]
    if errors:
        raise errors[0]
    return [t for r in results for t in r]


def file_under_load(port: int, how: str, clients: int, total: int, *, token: str, session: str,
                    filing: dict) -> tuple[float, list[str], int]:  # fmt: skip
    """(cases per second, numbers filed, errors) for `total` filings by `clients` at once."""
    each = total // clients

    def work(index):
        numbers, errors = [], 0
        if how == "api":
            http = Http(port, headers={"Authorization": f"Token {token}",
                                       "Content-Type": "application/json"})  # fmt: skip
        else:
            http = Http(port, cookies={"sessionid": session})
            status, page, _response = http.request("GET", "/cases/new/")
            csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        barrier.wait()
        for n in range(each):
            cause = f"压测{index}-{n}"
            if how == "api":
                body = json.dumps({**filing, "cause": cause}, ensure_ascii=False).encode()
                status, answer, _response = http.request("POST", "/api/v1/cases/", body)
                if status == 201:
                    numbers.append(json.loads(answer)["number"])
                else:
                    errors += 1
            else:
                form = {
                    "csrfmiddlewaretoken": csrf.decode(), "filing_key": uuid.uuid4().hex,
                    "area": filing["area"], "category": filing["category"], "cause": cause,
                    "address": filing["address"], "channel": filing["channel"],
                    "people_involved": "2", "notify_applicant": "on",
                    "parties-TOTAL_FORMS": "1", "parties-INITIAL_FORMS": "0",
                    "parties-0-side": "applicant", "parties-0-kind": "person",
                    "parties-0-name": filing["parties"][0]["name"],
                    "parties-0-phone": filing["parties"][0]["phone"],
                }  # fmt: skip
                body = "&".join(f"{k}={quote(str(v))}" for k, v in form.items()).encode()
                status, answer, response = http.request(
                    "POST", "/cases/new/", body,
                    {"Content-Type": "application/x-www-form-urlencoded",
                     "Referer": "http://localhost/cases/new/"},
                )  # fmt: skip
                if status == 302 and "/cases/" in (response.getheader("Location") or ""):
                    numbers.append(response.getheader("Location"))
                else:
                    errors += 1
        return numbers, errors

    barrier = threading.Barrier(clients + 1)
    results: list = [None] * clients

    def run(index):
        try:
            results[index] = work(index)
        except Exception as exc:
            results[index] = exc
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()  # every client connected (and, for the form, holding its CSRF token)
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    failed = [r for r in results if isinstance(r, Exception)]
    if failed:
        raise failed[0]
    numbers = [n for r in results for n in r[0]]
    errors = sum(r[1] for r in results)
    return len(numbers) / seconds, numbers, errors


def number_gaps(numbers: list[str]) -> int:
    """How many numbers of each year, between the first and the last filed, nobody got
    (JF2026-000123: the year, then the year's count)."""
    by_year: dict[str, list[int]] = {}
    for number in numbers:
        year, _, count = number.partition("-")
        by_year.setdefault(year, []).append(int(count))
    return sum(max(c) - min(c) + 1 - len(set(c)) for c in by_year.values())


def quote(value: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(value)


# --- the benchmark -----------------------------------------------------------------------------


def grid_worker(area):
    """A grid worker of the busiest grid (the generated staff has none)."""
    from grids.models import Assignment, Role, User

    user, _created = User.objects.get_or_create(
        username=f"b-grid-{area.code}", defaults={"real_name": f"网格员{area.code}"}
    )
    Assignment.objects.get_or_create(user=user, role=Role.GRID_WORKER, area=area)
    return user


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1.0")),
        help="size of the city, 1.0 = Zhengzhou (env BENCH_SCALE)",
    )  # fmt: skip
    parser.add_argument("--cases", type=int, help="number of cases (default 2,000,000 × scale)")
    parser.add_argument("--runs", type=int, default=30, help="timed requests per measure")
    parser.add_argument("--filings", type=int, default=400, help="cases filed per measure")
    parser.add_argument("--explain", action="store_true", help="print every plan in full")
    parser.add_argument("--no-server", action="store_true", help="skip the gunicorn part")
    parser.add_argument(
        "--only-filing", action="store_true",
        help="only the filing throughput through gunicorn (no lists, no list load)",
    )  # fmt: skip
    args, _unknown = parser.parse_known_args(argv)  # bin/bench passes every option to all
    count = args.cases or max(1000, round(CASES_AT_SCALE_1 * args.scale))

    print(f"== bench_lists: case lists, search and filing, {count:,} cases, scale {args.scale:g}")
    prepare_database(fresh=os.environ.get("BENCH_FRESH_DB") == "1")
    setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test import override_settings
    from rest_framework.authtoken.models import Token

    from benchmarks.generate_cases import ensure_cases
    from disputes.models import Case, Category
    from grids.models import Area

    with timed() as t:
        data = ensure_cases(count, scale=args.scale)
    how = f"loaded in {data.seconds:.0f} s" if data.loaded else "reused"
    print(f"data: {count:,} cases ({how}; ready in {t['seconds']:.0f} s), "
          f"{Area.objects.count():,} areas, anchored at {data.now:%Y-%m-%d %H:%M} UTC")  # fmt: skip
    with connection.cursor() as cursor, timed() as t:
        # As autovacuum does for a live table: the visibility map lets counts read the
        # indexes alone. (A bulk load leaves it empty until then.)
        cursor.execute("VACUUM (ANALYZE) disputes_case")
        # And statistics for every other table, as autovacuum keeps them: a table filled in
        # one go (the staff's assignments) is otherwise planned as if nearly empty, and the
        # case page's choice of mediators read all 3,917 assignments (7 ms, not 1.5).
        cursor.execute("ANALYZE")
    print(f"vacuum analyze disputes_case, analyze the rest: {t['seconds']:.1f} s")

    with connection.cursor() as cursor:
        cursor.execute("SELECT grid_id FROM disputes_case WHERE grid_id IS NOT NULL "
                       "GROUP BY grid_id ORDER BY count(*) DESC LIMIT 1")  # fmt: skip
        busiest_grid = Area.objects.get(pk=cursor.fetchone()[0])
    streets, districts = data.streets, data.districts
    subjects = [
        ("busiest street", data.street_staff(streets[0]), Area.objects.get(pk=streets[0])),
        ("median street", data.street_staff(streets[len(streets) // 2]),
         Area.objects.get(pk=streets[len(streets) // 2])),
        ("busiest district", data.district_staff(districts[0]), Area.objects.get(pk=districts[0])),
        ("grid worker", grid_worker(busiest_grid), busiest_grid),
    ]  # fmt: skip
    plain_static = override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    )
    plain_static.enable()
    # As the served processes do once the app is loaded (gunicorn.conf.py): what is loaded
    # for good stays out of garbage collection, whose full passes would otherwise land in
    # the p95 of the in-process figures as they did through gunicorn.
    gc.collect()
    gc.freeze()

    rows, failures, goals = [], [], {"api": [], "page": [], "search": [], "ratio": []}
    plans_seen = []
    load_before = os.getloadavg()[0]
    for label, user, area in [] if args.only_filing else subjects:
        scoped = Case.objects.filter(**{f"{area.level}_id": area.pk})
        newest = scoped.order_by("-filed_at").values("pk", "address").first()
        print(f"{label}: {area.name} ({area.code}) — {scoped.count():,} cases; "
              f"user {user.username}")  # fmt: skip
        text = newest["address"][:4]  # a street name: matches many of its cases
        measures = [
            ("list page 1", "/cases/", "page"),
            (f"deep page ({DEEP_PAGE})", f"/cases/?page={DEEP_PAGE}", "page"),
            (f"search “{text}”", f"/cases/?q={quote(text)}", "search"),
            ("colour red", "/cases/?colour=red", "page"),
            ("most overdue first", "/cases/?sort=sla", "page"),
            ("my cases", "/cases/mine/", "page"),
            ("list API (50)", "/api/v1/cases/?page_size=50", "api"),
            ("list API search", f"/api/v1/cases/?page_size=50&q={quote(text)}", "search"),
            ("case page", f"/cases/{newest['pk']}/", "detail"),
            ("case API", f"/api/v1/cases/{newest['pk']}/", "detail"),
        ]
        client = client_for(user)
        for name, url, kind in measures:
            times, cpu = time_get(client, url, args.runs)
            statements = captured_sql(client, url)
            sql = time_sql(statements, max(10, args.runs // 2))
            ratio = median(times) / max(median(sql), 0.001)
            plans = explain(statements) if kind != "detail" else []
            used = "; ".join(scans(plan) for _sql, plan in plans)
            for statement, plan in plans:
                plans_seen.append((f"{label} / {name}", statement, plan))
                if seq_scans_of_cases(plan):
                    failures.append(f"{label} / {name}: sequential scan of disputes_case")
            rows.append((f"{label}: {name}", median(times), p95(times), median(cpu),
                         median(sql), round(ratio, 2), len(statements), used[:70]))  # fmt: skip
            if kind in goals:
                goals[kind].append((f"{label} {name}", p95(times)))
            goals["ratio"].append((f"{label} {name}", ratio))
    # Django's own floor: a signed-in request to a view that only names its user. What it
    # costs beside its two reads (session, user) bounds from below the ratio of any page
    # whose own SQL is as cheap (goal: page ÷ raw SQL ≤ 2).
    floor = None
    if not args.only_filing:
        with override_settings(ROOT_URLCONF="benchmarks.floor_urls"):
            client = client_for(subjects[0][1])
            times, cpu = time_get(client, "/bench-floor/", args.runs)
            statements = captured_sql(client, "/bench-floor/")
            sql = time_sql(statements, max(10, args.runs // 2))
        floor = (median(times), median(cpu), median(sql), len(statements))
        rows.append(("Django alone: signed-in view that reads nothing", median(times), p95(times),
                     median(cpu), median(sql), round(median(times) / median(sql), 2),
                     len(statements), ""))  # fmt: skip
    # The filing form of the busiest district's centre: a select of every grid it may file
    # in was 17,824 options (1.46 MB); the picker holds its own areas only.
    form_kb = None
    if not args.only_filing:
        district_user = subjects[2][1]
        form_client = client_for(district_user)
        form_times, _cpu = time_get(form_client, "/cases/new/", args.runs)
        form_kb = len(form_client.get("/cases/new/", secure=True).content) / 1024
        rows.append(("busiest district: filing form", median(form_times), p95(form_times),
                     0.0, 0.0, 0.0, 0, f"{form_kb:.1f} KB"))  # fmt: skip
    load_after = os.getloadavg()[0]
    if rows:
        print()
        print_table(("request", "median ms", "p95 ms", "app CPU ms", "raw SQL ms", "page÷SQL",
                     "queries", "scans of disputes_case"), rows)  # fmt: skip
    if plans_seen:
        print()
        print("EXPLAIN (ANALYZE) of each list statement reading disputes_case:")
    for where, statement, plan in plans_seen:
        if args.explain:
            print(f"-- {where}: {statement[:160]}")
            print("\n".join(f"   {line}" for line in plan))
        else:
            print(f"  {where}: {scans(plan)}")

    server_rows = []
    filing_figures = {}
    concurrent = {}
    cpu_split = {}
    if not args.no_server:
        port = free_port()
        server = start_gunicorn(port)
        worker = subjects[-1][1]
        street_user = subjects[0][1]
        first_new = Case.objects.order_by("-pk").values_list("pk", flat=True).first()
        try:
            session = client_for(street_user).cookies["sessionid"].value
            for clients in () if args.only_filing else (1, 4):
                times = list_under_load(port, session, "/cases/", clients, args.runs)
                concurrent[clients] = times
                server_rows.append((f"list page, {clients} client(s) at once", median(times),
                                    p95(times), len(times)))  # fmt: skip
            if not args.only_filing:
                times = list_under_load(port, session, "/api/v1/cases/?page_size=50", 4,
                                        args.runs)  # fmt: skip
                server_rows.append(("list API, 4 clients at once", median(times), p95(times),
                                    len(times)))  # fmt: skip
            token, _created = Token.objects.get_or_create(user=worker)
            worker_session = client_for(worker).cookies["sessionid"].value
            category = Category.objects.filter(parent__isnull=False, is_active=True).first()
            applicant = {"side": "applicant", "name": "压测人", "phone": "13800001111"}
            filing = {"area": busiest_grid.pk, "category": category.pk, "address": "压测路1号",
                      "channel": "grid_worker", "parties": [applicant]}  # fmt: skip
            # Untimed: gunicorn answers its port before its workers have booted, and a
            # worker's first filing loads what Django and DRF load lazily (about 1 s of
            # CPU each); timed from cold, the first measure counted seconds of start-up.
            for how in ("api", "form"):
                file_under_load(port, how, 4, 8, token=token.key, session=worker_session,
                                filing=filing)  # fmt: skip
            for how in ("api", "form"):
                for clients in (1, 4):
                    total = max(clients * 10, args.filings // (4 // clients))
                    split = CpuSplit(server.pid, connection.settings_dict["NAME"])
                    rate, numbers, errors = file_under_load(
                        port, how, clients, total, token=token.key, session=worker_session,
                        filing=filing,
                    )  # fmt: skip
                    filing_figures[(how, clients)] = (rate, errors)
                    distinct = len(set(numbers)) == len(numbers)
                    if errors or not distinct:
                        failures.append(f"filing {how} × {clients}: {errors} errors, "
                                        f"numbers distinct: {distinct}")  # fmt: skip
                    name = f"filing ({how}), {clients} client(s)"
                    cpu_split[name] = split.per(len(numbers))
                    server_rows.append((name, rate, errors, len(numbers)))
        finally:
            server.terminate()
            server.wait(timeout=30)
            filed = Case.objects.filter(pk__gt=first_new or 0)
            numbers = list(filed.values_list("number", flat=True))
            if len(set(numbers)) != len(numbers):
                failures.append("two filed cases share a number")
            gaps = number_gaps(numbers)
            with timed() as t:
                removed = filed.delete()[0]
            print(f"\ncleaned up: {len(numbers):,} cases filed by the benchmark "
                  f"({removed:,} rows with theirs) deleted in {t['seconds']:.1f} s")  # fmt: skip
            print(f"their numbers: {len(set(numbers)):,} distinct of {len(numbers):,}, "
                  f"{gaps} missing between the first and the last of each year (a filing "
                  f"that rolls back leaves its number unused: docs/architecture.md)")  # fmt: skip
        print()
        print("through gunicorn (2 workers):")
        for name, a, b, n in server_rows:
            if name.startswith("filing"):
                print(f"  {name}: {a:,.1f} cases/s, {b} errors ({n} filed)")
                print(f"    {cpu_split[name]}")
            else:
                print(f"  {name}: median {a:,.1f} ms, p95 {b:,.1f} ms ({n} requests)")

    print()
    for kind, goal, label in (("api", GOAL_API_P95_MS, "list API p95"),
                              ("page", GOAL_PAGE_P95_MS, "list pages p95"),
                              ("search", GOAL_SEARCH_P95_MS, "search p95")):  # fmt: skip
        if not goals[kind]:
            continue
        worst_name, worst = max(goals[kind], key=lambda item: item[1])
        verdict = "met" if worst <= goal else "NOT met"
        print(f"goal: {label} ≤ {goal:.0f} ms for every user — worst {worst:.1f} ms "
              f"({worst_name}), {verdict}")  # fmt: skip
    if goals["ratio"]:
        worst_name, worst = max(goals["ratio"], key=lambda item: item[1])
        verdict = "met" if worst <= GOAL_RATIO else "NOT met"
        print(f"goal: page ÷ raw SQL ≤ {GOAL_RATIO:g} — worst {worst:.2f} ({worst_name}), "
              f"{verdict}")  # fmt: skip
        if floor:
            print(f"      (Django alone, a signed-in view that reads nothing: {floor[0]:.2f} ms "
                  f"for {floor[2]:.2f} ms of SQL in {floor[3]} statements = "
                  f"{floor[0] / floor[2]:.1f}×)")  # fmt: skip
    if concurrent:
        factor = p95(concurrent[4]) / p95(concurrent[1])
        verdict = "met" if factor <= GOAL_CONCURRENT_FACTOR else "NOT met"
        print(f"goal: list page with 4 concurrent clients ≤ {GOAL_CONCURRENT_FACTOR:g} × one — "
              f"p95 {p95(concurrent[4]):.1f} vs {p95(concurrent[1]):.1f} ms = {factor:.2f}×, "
              f"{verdict}")  # fmt: skip
    if filing_figures:
        rate, errors = filing_figures[("api", 4)]
        verdict = "met" if rate >= GOAL_FILINGS_PER_S and not errors else "NOT met"
        print(f"goal: filing ≥ {GOAL_FILINGS_PER_S:.0f} cases/s with 4 API clients, no errors — "
              f"{rate:.1f}/s, {errors} errors, {verdict}")  # fmt: skip
    if form_kb is not None:
        verdict = "met" if form_kb <= 50 else "NOT met"
        print(f"goal: filing form ≤ 50 KB for a district user — {form_kb:.1f} KB, {verdict}")
    seq = [f for f in failures if "sequential" in f]
    if not args.only_filing:
        print(
            f"goal: no sequential scan of disputes_case in any list statement — "
            f"{len(plans_seen)} plans, {len(seq)} with one, {'met' if not seq else 'NOT met'}"
        )
    print(f"database: {connection.settings_dict['NAME']}; load average {load_before:.1f} → "
          f"{load_after:.1f} while timing, on {os.cpu_count()} cores")  # fmt: skip
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

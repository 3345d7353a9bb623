"""Benchmark: import a Zhengzhou-sized area CSV (~137,000 areas) into PostgreSQL.

Times `grids.imports.import_areas` on an empty tree, then on the same file again (the
idempotent re-import an admin does after fixing a typo), then checks the tree is sound.
Goal: the first import of the whole city in under 120 s on the 2-core reference machine.

    python -m benchmarks.bench_import [--scale 1.0] [--full-check]
"""

import argparse
import os
import resource
import sys
from pathlib import Path

from benchmarks import generate_city
from benchmarks.common import DATA_DIR, prepare_database, print_table, setup_django, timed

GOAL_SECONDS = 120
SAMPLE_STREETS = 3


def city_file(scale: float) -> tuple[Path, float | None]:
    """The generated CSV for this scale, regenerated when missing or older than the generator."""
    path = DATA_DIR / f"city-{scale:g}.csv"
    generator = Path(generate_city.__file__)
    if path.exists() and path.stat().st_mtime >= generator.stat().st_mtime:
        return path, None
    with timed() as t:
        generate_city.write_csv(path, generate_city.iter_areas(scale))
    return path, t["seconds"]


def truncate_grids_tables() -> list[str]:
    """Empty every table of the grids app except users (CASCADE empties rows that point here)."""
    from django.apps import apps
    from django.db import connection

    tables = [
        model._meta.db_table
        for model in apps.get_app_config("grids").get_models()
        if model._meta.model_name != "user" and not model._meta.proxy
    ]
    quoted = ", ".join(connection.ops.quote_name(t) for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
    return tables


def run_import(data: bytes) -> tuple[object, float, int]:
    from grids.imports import import_areas

    calls = 0

    def progress(done: int, total: int):
        nonlocal calls
        calls += 1

    with timed() as t:
        result = import_areas(data, progress=progress)
    return result, t["seconds"], calls


def tree_problems() -> dict[str, int]:
    """The invariants treebeard's find_problems() checks, over the whole table in SQL.

    find_problems() costs two queries per node (minutes at 137k areas), so the full check
    is done here set-wise; the parent_id column, which must agree with the path, makes the
    orphan and numchild checks simple joins.
    """
    from django.db import connection

    from grids.models import ALLOWED_PARENT_LEVELS, Area

    table = connection.ops.quote_name(Area._meta.db_table)
    steplen = Area.steplen
    alphabet = Area.alphabet
    checks = {
        "bad path length or depth": f"""
            SELECT count(*) FROM {table}
            WHERE length(path) = 0 OR length(path) % {steplen} <> 0
               OR depth <> length(path) / {steplen}""",
        "characters outside the alphabet": f"""
            SELECT count(*) FROM {table} WHERE path !~ '^[{alphabet}]+$'""",
        "orphans or parent_id disagreeing with path": f"""
            SELECT count(*) FROM {table} c LEFT JOIN {table} p ON p.id = c.parent_id
            WHERE (c.depth = 1 AND c.parent_id IS NOT NULL)
               OR (c.depth > 1 AND (p.id IS NULL
                   OR p.path <> left(c.path, length(c.path) - {steplen})))""",
        "wrong numchild": f"""
            SELECT count(*) FROM {table} a
            LEFT JOIN (SELECT parent_id, count(*) AS n FROM {table} GROUP BY parent_id) k
                   ON k.parent_id = a.id
            WHERE a.numchild <> coalesce(k.n, 0)""",
    }
    problems = {}
    with connection.cursor() as cursor:
        for label, query in checks.items():
            cursor.execute(query)
            problems[label] = cursor.fetchone()[0]
        cursor.execute(
            f"""SELECT c.level, p.level, count(*) FROM {table} c
                LEFT JOIN {table} p ON p.id = c.parent_id GROUP BY c.level, p.level"""
        )
        pairs = cursor.fetchall()
        problems["level under a disallowed parent level"] = sum(
            n for level, parent, n in pairs if parent not in ALLOWED_PARENT_LEVELS[level]
        )
    return problems


def sample_find_problems(count: int) -> tuple[int, int]:
    """treebeard's own find_problems() on `count` streets spread over the tree."""
    from grids.models import Area, AreaLevel

    streets = list(Area.objects.filter(level=AreaLevel.STREET).order_by("path"))
    if not streets:
        return 0, 0
    step = max(1, len(streets) // count)
    sample = streets[::step][:count]
    nodes = problems = 0
    for street in sample:
        nodes += Area.objects.filter(path__startswith=street.path).count()
        problems += sum(len(found) for found in Area.objects.find_problems(parent=street))
    return nodes, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1.0")),
        help="size of the city, 1.0 = Zhengzhou (env BENCH_SCALE)",
    )  # fmt: skip
    parser.add_argument(
        "--full-check", action="store_true", default=os.environ.get("BENCH_FULL_CHECK") == "1",
        help="also run treebeard's find_problems() on the whole tree (slow; env BENCH_FULL_CHECK)",
    )  # fmt: skip
    args, _unknown = parser.parse_known_args(argv)  # bin/bench passes every option to all

    print(f"== bench_import: area CSV import, scale {args.scale:g}")
    prepare_database(fresh=os.environ.get("BENCH_FRESH_DB") == "1")
    setup_django()
    from django.db import connection

    from grids.models import Area

    path, generated_in = city_file(args.scale)
    data = path.read_bytes()
    rows = data.count(b"\n") - 1
    made = f"generated in {generated_in:.1f} s" if generated_in is not None else "cached"
    print(f"file: {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    print(f"      {rows:,} areas, {len(data) / 1e6:.1f} MB ({made})")
    print(f"database: {connection.settings_dict['NAME']} on {connection.vendor} "
          f"{'.'.join(map(str, divmod(connection.pg_version, 10000)))}")  # fmt: skip
    print(f"truncated: {', '.join(truncate_grids_tables())}")

    failures = []
    table = []
    first, first_seconds, first_calls = run_import(data)
    if not first.ok:
        for error in first.errors[:10]:
            print(f"  line {error['line']}: {error['message']}")
        print(f"FAILED: the first import reported {len(first.errors):,} errors")
        return 1
    if first.created != rows or Area.objects.count() != rows:
        failures.append(f"first import created {first.created:,} of {rows:,}")
    table.append(("first import", rows, first_seconds, rows / first_seconds,
                  f"created {first.created:,}; {first_calls} progress calls"))  # fmt: skip

    again, again_seconds, _calls = run_import(data)
    if not again.ok or again.unchanged != rows or again.created or again.updated:
        failures.append(
            f"re-import was not a no-op: created {again.created}, updated {again.updated}, "
            f"unchanged {again.unchanged}, errors {len(again.errors)}"
        )
    table.append(("re-import (no changes)", rows, again_seconds, rows / again_seconds,
                  f"unchanged {again.unchanged:,}"))  # fmt: skip

    with timed() as t:
        problems = tree_problems()
    bad = sum(problems.values())
    table.append(("tree check, SQL, every area", rows, t["seconds"], rows / t["seconds"],
                  "clean" if not bad else f"{bad:,} problems"))  # fmt: skip
    for label, n in problems.items():
        if n:
            failures.append(f"{n:,} areas: {label}")

    with timed() as t:
        nodes, sampled = sample_find_problems(SAMPLE_STREETS)
    table.append((f"find_problems(), {SAMPLE_STREETS} streets", nodes, t["seconds"],
                  nodes / t["seconds"] if t["seconds"] else 0.0,
                  "clean" if not sampled else f"{sampled:,} problems"))  # fmt: skip
    if sampled:
        failures.append(f"find_problems() found {sampled:,} problems in the sample")

    if args.full_check:
        with timed() as t:
            found = Area.objects.find_problems()
        count = sum(len(ids) for ids in found)
        table.append(("find_problems(), whole tree", rows, t["seconds"], rows / t["seconds"],
                      "clean" if not count else f"{count:,} problems"))  # fmt: skip
        if count:
            failures.append(f"find_problems() found {count:,} problems")

    print()
    print_table(("step", "rows", "seconds", "rows/s", "result"), table)
    print()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    verdict = "met" if first_seconds < GOAL_SECONDS else "NOT met"
    print(f"goal: under {GOAL_SECONDS} s for the first import — {first_seconds:.1f} s, {verdict}")
    print(f"peak memory of this process: {peak_mb:,.0f} MB")
    if not args.full_check:
        print(
            "note: find_problems() ran on a sample of streets (two queries per area: about "
            "17 minutes for the whole tree); the SQL check covers every area. "
            "BENCH_FULL_CHECK=1 runs it on the whole tree."
        )
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""What every benchmark shares: the bench database, Django setup, timing and a result table.

Benchmarks run against PostgreSQL only (SQLite figures would mislead). They refuse to
touch a database whose name does not contain "bench", because they truncate tables.

    python -m benchmarks.common --fresh   # drop, recreate and migrate the bench database
"""

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/grid_bench"


def database_url() -> str:
    url = os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    # Benchmarks measure the product, not a debug toolbar or query logging.
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-key")
    return url


def _server_settings(url: str) -> dict:
    import environ

    config = environ.Env.db_url_config(url)
    if "postgresql" not in config["ENGINE"]:
        sys.exit(f"benchmarks need PostgreSQL; DATABASE_URL is {config['ENGINE']}")
    name = config["NAME"]
    if "bench" not in name and os.environ.get("BENCH_ALLOW_ANY_DATABASE") != "1":
        sys.exit(
            f"refusing to use database {name!r}: benchmarks truncate tables, so its name must "
            "contain 'bench' (or set BENCH_ALLOW_ANY_DATABASE=1)"
        )
    connect = {
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
    }
    return {"name": name, "connect": {k: v for k, v in connect.items() if v}}


def prepare_database(*, fresh: bool = False, quiet: bool = False) -> None:
    """Create the bench database if missing (dropping it first if fresh) and migrate it."""
    import psycopg2
    from psycopg2 import sql

    url = database_url()
    server = _server_settings(url)
    name = server["name"]
    admin = psycopg2.connect(dbname="postgres", **server["connect"])
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            if fresh:
                cursor.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                if not quiet:
                    print(f"created database {name}")
    finally:
        admin.close()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        check=True,
        env=os.environ,
    )


def setup_django() -> None:
    database_url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grid_governance.settings")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


@contextmanager
def timed() -> Iterator[dict]:
    """`with timed() as t: …` then t["seconds"]."""
    result = {"seconds": 0.0}
    started = time.perf_counter()
    try:
        yield result
    finally:
        result["seconds"] = time.perf_counter() - started


def print_table(headers: Sequence[str], rows: Sequence[Sequence]) -> None:
    """A plain, aligned text table (right-aligned numbers)."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row, values):
        return "  ".join(
            v.rjust(w) if isinstance(row[i], int | float) else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        )

    print(line(headers, cells[0]).rstrip())
    print("  ".join("-" * w for w in widths))
    for row, values in zip(rows, cells[1:], strict=True):
        print(line(row, values).rstrip())


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def main() -> int:
    parser = argparse.ArgumentParser(description="Prepare the benchmark database.")
    parser.add_argument("--fresh", action="store_true", help="drop and recreate it first")
    args = parser.parse_args()
    prepare_database(fresh=args.fresh)
    print(f"database ready: {_server_settings(database_url())['name']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

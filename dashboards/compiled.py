"""The dashboard's queries compiled once per shape and run with fresh parameters.

Compiling a Django query with a dozen aggregates costs more than running it on an area's
cases, so each query is compiled once with sentinel parameters; later requests substitute
their own values for the sentinels (see bench_dashboard.py for the figures)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.db.models import Q

from disputes.models import LEVEL_COLUMN
from grids.models import Area

from .periods import Period

# Open cases whose next deadline is within this long count as "due soon".
DUE_SOON = timedelta(hours=24)


@dataclass(frozen=True)
class QueryArgs:
    level: str | None  # the area's level; None for the whole system
    area_id: int | None
    start: datetime
    end: datetime
    now: datetime
    soon: datetime

    def scope(self) -> Q:
        if self.level is None:
            return Q()
        return Q(**{LEVEL_COLUMN[self.level]: self.area_id})


VARIABLE = ("area_id", "start", "end", "now", "soon")


SENTINEL = {
    "area_id": -7_350_001,
    "start": datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC),
    "end": datetime(1902, 3, 4, 5, 6, 7, tzinfo=UTC),
    "now": datetime(1903, 4, 5, 6, 7, 8, tzinfo=UTC),
    "soon": datetime(1904, 5, 6, 7, 8, 9, tzinfo=UTC),
}


COMPILED: dict[tuple, tuple[str, list]] = {}


def query_args(area: Area | None, period: Period, now: datetime) -> QueryArgs:
    start, end = period.bounds
    return QueryArgs(
        level=area.level if area else None,
        area_id=area.pk if area else None,
        start=start,
        end=end,
        now=now,
        soon=now + DUE_SOON,
    )


def db_value(value):
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def compile_query(key: tuple, build) -> tuple[str, list]:
    sentinel_args = QueryArgs(level=key[1], **SENTINEL)
    sql, params = build(sentinel_args).query.sql_with_params()
    where = {db_value(value): name for name, value in SENTINEL.items()}
    template = []
    for value in params:
        name = where.get(value) if not isinstance(value, bool) else None
        if name is None and isinstance(value, date | datetime):
            # A date derived from a parameter would be frozen at its sentinel value.
            raise ValueError(f"{key}: pass every date and time through QueryArgs")
        template.append((name, value))
    return sql, template


def fetch(name: str, a: QueryArgs, build, *, variant="") -> list[dict]:
    """Rows of the query `build(args)` returns, as dicts keyed by column alias."""
    key = (name, a.level, variant, connection.alias, connection.vendor)
    if key not in COMPILED:
        COMPILED[key] = compile_query(key, build)
    sql, template = COMPILED[key]
    # The aggregates repeat the same few values dozens of times: adapt each once.
    values = {slot: db_value(getattr(a, slot)) for slot in VARIABLE}
    params = [values[slot] if slot else value for slot, value in template]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

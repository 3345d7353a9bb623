"""Inserting thousands of rows in one statement: rows made in Python (`insert_rows`, the SLA
sweep) or made by the database from a query (`insert_from_select`, an instruction to every
grid worker of a city).

Django's bulk_create builds a model instance per row and a placeholder per value: for the
10,000 events and 13,000 notifications of a busy sweep tick that is over a second of
Python before PostgreSQL sees a byte (bench_sla.py profiled it). On PostgreSQL each column
goes over as one array instead and `unnest` turns the arrays back into rows, so the
statement costs what the database needs to write them. Elsewhere (SQLite in development,
where a tick is small) it falls back to bulk_create.
"""

import json
from collections.abc import Sequence
from datetime import datetime

from django.db import connection, models
from django.db.models.constants import OnConflict


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence],
    *,
    constants: dict | None = None,
    upsert: tuple[Sequence[str], Sequence[str]] | None = None,
) -> None:
    """Insert `rows` (tuples of values for the model fields named in `columns`, foreign keys
    given as ids by their attname, e.g. "case_id"), with `constants` (column → value) the
    same in every row, sent once. Values are stored as given: no defaults, auto_now or
    validation are applied, so pass every column the table needs. `upsert` = (the unique
    fields, the fields to overwrite): a row that exists already is updated instead."""
    if not rows:
        return
    constants = constants or {}
    fields = [model._meta.get_field(_field_name(model, c)) for c in columns]
    if connection.vendor != "postgresql":
        conflict = {}
        if upsert:
            unique, update = upsert
            conflict = {"update_conflicts": True, "unique_fields": unique}
            conflict["update_fields"] = update
        model.objects.bulk_create(
            [model(**dict(zip(columns, row, strict=True)), **constants) for row in rows],
            **conflict,
        )
        return
    quote = connection.ops.quote_name
    arrays, casts = [], []
    for index, field in enumerate(fields):
        values = [row[index] for row in rows]
        if isinstance(field, models.JSONField):
            # A jsonb[] parameter would need an adapter; text[] cast per element will do.
            values = [None if v is None else json.dumps(v, cls=field.encoder) for v in values]
            casts.append("%s::text[]")
            arrays.append(values)
            continue
        if isinstance(field, models.DateTimeField):
            # As ISO text, cast by the server: psycopg2 adapts datetimes several times
            # slower than strings, and a tick sends tens of thousands.
            values = [None if v is None else v.isoformat() for v in values]
        casts.append(f"%s::{field.cast_db_type(connection)}[]")
        arrays.append(values)
    selects = [
        f"u.c{i}::jsonb" if isinstance(field, models.JSONField) else f"u.c{i}"
        for i, field in enumerate(fields)
    ]
    names = ", ".join(f"c{i}" for i in range(len(fields)))
    fixed = [model._meta.get_field(_field_name(model, c)) for c in constants]
    fixed_values = []  # their placeholders come first in the statement, in the SELECT list
    for field, value in zip(fixed, constants.values(), strict=True):
        selects.append(f"%s::{field.cast_db_type(connection)}")
        fixed_values.append(value.isoformat() if isinstance(value, datetime) else value)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "
        f"({', '.join(quote(f.column) for f in (*fields, *fixed))}) "
        f"SELECT {', '.join(selects)} FROM unnest({', '.join(casts)}) "
        f"WITH ORDINALITY AS u({names}, n) ORDER BY u.n"
    )
    if upsert:
        unique, update = upsert
        column = {f.name: quote(f.column) for f in model._meta.concrete_fields}
        sets = ", ".join(f"{column[f]} = EXCLUDED.{column[f]}" for f in update)
        sql += f" ON CONFLICT ({', '.join(column[f] for f in unique)}) DO UPDATE SET {sets}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*fixed_values, *arrays])


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """PostgreSQL: `count` fresh ids from the table's own sequence, so rows inserted by
    `insert_rows` can be pointed at (timers, events) without reading them back."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _field_name(model, column: str) -> str:
    for field in model._meta.concrete_fields:
        if column in (field.name, field.attname):
            return field.name
    raise ValueError(f"{model.__name__} has no field {column!r}")


def insert_from_select(
    model: type[models.Model],
    columns: Sequence[str],
    queryset: models.QuerySet,
    *,
    ignore_conflicts: bool = False,
) -> int:
    """INSERT INTO model's table (columns) SELECT …: the rows are made by the database from
    `queryset` (a `values_list` whose expressions line up with `columns`, foreign keys named
    by their attname), so however many there are, none travels to Python. Returns how many
    were inserted. `ignore_conflicts` skips rows that would break a unique constraint (ON
    CONFLICT DO NOTHING; on SQLite INSERT OR IGNORE). As with insert_rows, no defaults,
    auto_now or validation: the select gives every column the table needs."""
    fields = [model._meta.get_field(_field_name(model, c)) for c in columns]
    if len(queryset.query.values_select) + len(queryset.query.annotation_select) != len(fields):
        raise ValueError("the queryset must select exactly one expression per column")
    select_sql, params = queryset.query.sql_with_params()
    quote = connection.ops.quote_name
    conflict = OnConflict.IGNORE if ignore_conflicts else None
    sql = (
        f"{connection.ops.insert_statement(on_conflict=conflict)} "
        f"{quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"{select_sql}"
    )
    suffix = connection.ops.on_conflict_suffix_sql(fields, conflict, None, None)
    if suffix:
        sql = f"{sql} {suffix}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount

"""Reads that every request makes, compiled once per database connection.

Turning a queryset into SQL is most of the CPU of a small indexed read: a primary-key or
index lookup takes PostgreSQL ~0.1 ms, and Django ~0.3–0.5 ms to build the query, compile
it and make the objects. A signed-in page makes five such reads before it shows anything
(its session, its user, the user's assignments, the unread count, the instruction banner)
and a filing about ten (issue 12: the page floor and the filing rate). Their statements
never change, only their values: so each is compiled once, with stand-in values, and run
again with the real ones; the ORM's own steps (`results_iter`, `from_db`, the related
populators) still make the objects, exactly as `ModelIterable` does.

    unread = Prepared(lambda user_id: Notification.objects.filter(recipient_id=user_id,
                                                                   read_at__isnull=True))
    unread.count(user.pk)       # an int
    unread.rows(user.pk)        # the model instances, select_related rows included

What `build` may do: return a queryset whose statement depends only on its arguments'
*values*, each a plain int, str or datetime used as is in a condition (`=`, `<`, `IN`
with one element each…). It must not branch on them or read the clock itself. Both are
checked on first use: the statement is compiled twice with different stand-ins, and must
come out the same with only the stand-ins moved; otherwise it is refused (ValueError)
rather than run with another request's value. Where a value is transformed on the way
(`icontains` wraps it in %, SQLite writes datetimes as text) or is None (`IS NULL`, a
different statement), the read is left to the ORM, unprepared, with the same result."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import get_related_populators

_MISSING = object()


def _stand_in(kind: type, index: int, round_: int):
    """A value nobody passes, of the argument's type, distinct per argument and round.
    Integers stay inside 32 bits: a lookup outside a column's range compiles differently."""
    number = 1_000_000 + 1_000 * round_ + index
    if kind is int:
        return -(1_900_000_000 + number)
    if kind is str:
        return f"\x1fprepared-{number}\x1f"
    if kind is datetime:
        return datetime(1901, 1, 1, tzinfo=UTC) + timedelta(microseconds=number)
    raise TypeError(kind)


class ObjectMaker:
    """The ORM's own steps from a compiled statement's rows to model objects, as
    `ModelIterable` takes them: converters (`results_iter`), `from_db`, the joined rows'
    populators, the annotations as attributes. For a compiler whose `as_sql()` has run
    (`klass_info` and `select` set); also used by disputes.listing.RowReader."""

    def __init__(self, compiler, db: str):
        self.compiler, self.db = compiler, db
        klass_info, select = compiler.klass_info, compiler.select
        self.model = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.own = slice(start, end)
        self.names = [column[0].target.attname for column in select[start:end]]
        self.related = get_related_populators(klass_info, select, db)
        self.annotations = list(compiler.annotation_col_map.items())

    def run(self, connection, sql: str, params) -> list:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            results = [cursor.fetchall()]
        objects = []
        for row in self.compiler.results_iter(results):
            obj = self.model.from_db(self.db, self.names, row[self.own])
            for populator in self.related:
                populator.populate(row, obj)
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects


class _Plan:
    """One compiled statement: its text, its fixed values, where each argument goes."""

    def __init__(self, qs: QuerySet, db: str, sql: str, params: tuple, slots: list, count: bool):
        self.connection = connections[db]
        self.sql = f"SELECT COUNT(*) FROM ({sql}) counted" if count else sql
        self.params = list(params)
        self.slots = slots  # (position in params, argument index)
        if not count:
            compiler = qs.query.get_compiler(using=db)
            compiler.as_sql()  # sets up klass_info and select for the objects
            self.maker = ObjectMaker(compiler, db)

    def values(self, args: tuple) -> list:
        params = self.params.copy()
        for position, index in self.slots:
            params[position] = args[index]
        return params

    def rows(self, args: tuple) -> list:
        return self.maker.run(self.connection, self.sql, self.values(args))

    def count(self, args: tuple) -> int:
        with self.connection.cursor() as cursor:
            cursor.execute(self.sql, self.values(args))
            return cursor.fetchone()[0]


class Prepared:
    """A read compiled once per connection (see the module's docstring)."""

    def __init__(self, build: Callable[..., QuerySet]):
        self.build = build
        self.db: str | None = None

    def rows(self, *args) -> list:
        plan = self._plan(args, count=False)
        return list(self.build(*args)) if plan is None else plan.rows(args)

    def first(self, *args):
        rows = self.rows(*args)
        return rows[0] if rows else None

    def count(self, *args) -> int:
        plan = self._plan(args, count=True)
        return self.build(*args).count() if plan is None else plan.count(args)

    def _plan(self, args: tuple, count: bool) -> _Plan | None:
        kinds = tuple(type(arg) for arg in args)
        if not all(kind in (int, str, datetime) for kind in kinds):
            return None  # None (IS NULL) or a list: the ORM writes that one
        db = self.db
        if db is None:  # which database the reads go to: asked once (no router varies it)
            db = self.db = self.build(*[_stand_in(kind, i, 0) for i, kind in enumerate(kinds)]).db
        # On the connection object itself: a thread's own, as its compilers are.
        plans = connections[db].__dict__.setdefault("prepared_plans", {})
        key = (self, kinds, count)
        plan = plans.get(key, _MISSING)
        if plan is _MISSING:
            plan = plans[key] = self._compile(kinds, db, count)
        return plan

    def _compile(self, kinds: tuple, db: str, count: bool) -> _Plan | None:
        compiled = []
        for round_ in (0, 1):
            stand_ins = [_stand_in(kind, i, round_) for i, kind in enumerate(kinds)]
            qs = self.build(*stand_ins)
            query = qs.query
            if (
                qs._prefetch_related_lookups
                or qs._known_related_objects
                or qs._iterable_class.__name__ != "ModelIterable"
                or query.extra
                or query.combinator
            ):
                return None  # more than a model's rows: the ORM's job
            if count and not query.is_sliced:  # the order does not change their number
                qs = qs.order_by()
                query = qs.query
            try:
                sql, params = query.get_compiler(using=db).as_sql()
            except EmptyResultSet:
                return None
            slots = [
                (position, stand_ins.index(value))
                for position, value in enumerate(params)
                if type(value) in kinds and value in stand_ins
            ]
            compiled.append((qs, sql, tuple(params), slots))
        (qs, sql, params, slots), (_qs, sql_b, params_b, slots_b) = compiled
        if {index for _position, index in slots} != set(range(len(kinds))):
            return None  # an argument transformed on the way (`%x%`, a date as text)
        moved, moved_b = {pos for pos, _ in slots}, {pos for pos, _ in slots_b}
        fixed = [value for position, value in enumerate(params) if position not in moved]
        fixed_b = [value for position, value in enumerate(params_b) if position not in moved_b]
        if sql != sql_b or slots != slots_b or fixed != fixed_b:
            raise ValueError(
                "a prepared read whose statement depends on more than its arguments' values "
                f"(it branches on them or reads the clock itself): {sql}"
            )
        return _Plan(qs, db, sql, params, slots, count)


def install(instance, name: str, rows: list) -> None:
    """`rows` as `instance`'s prefetched `name`, as `prefetch_related` leaves them:
    `instance.<name>.all()` answers from them without a query, and the rows of a reverse
    foreign key know their owner (`row.<foreign key>` is the instance, no query)."""
    manager = getattr(instance, name)
    field = getattr(manager, "field", None)  # (a many-to-many's manager has none)
    for row in rows if field is not None else ():
        field.set_cached_value(row, instance)
    known = manager.all()
    known._result_cache = rows
    known._prefetch_done = True
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[name] = known

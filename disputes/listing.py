"""Case lists at city scale: a page read branch by branch in index order, and a count that
stops at COUNT_CAP.

A user's scope is an OR of branches (disputes.scope: their street, the cases they filed,
mediate, assist on …). An OR cannot be read in index order, so PostgreSQL would fetch every
case of a district and sort them for one page of 20. Instead each branch is read in its
own index's order up to the page's end, the branches are merged (UNION drops a case that
two branches share) and the page cut from the merge: a page costs about (page end ×
branches) index entries whatever the scope's size. The count does the same with a cap:
exact up to COUNT_CAP, "more than COUNT_CAP" beyond, and pages go as deep as the cap.

A list may be sorted in segments (`CaseQuerySet.list_segments`): "most overdue first" is
the running cases in deadline order (few: the open ones), then every stopped case newest
first, each segment read the same way.

On SQLite (the zero-setup run, a few thousand cases) the queryset is simply sliced."""

from dataclasses import dataclass

from django.core.exceptions import FullResultSet
from django.core.paginator import Paginator
from django.db import connection, connections
from django.db.models import F, Q
from django.db.models.expressions import Col, RawSQL
from django.db.models.sql import Query
from django.utils.functional import cached_property

from common.prepared import ObjectMaker
from common.sql import InSubquery

COUNT_CAP = 10_000
EVERY = Q()  # no condition


@dataclass(frozen=True)
class Key:
    """One column of a list's order, by field or annotation name."""

    name: str
    descending: bool = False
    nulls_last: bool = False

    def expression(self):
        return (
            F(self.name).desc()
            if self.descending
            else F(self.name).asc(nulls_last=self.nulls_last or None)
        )


NEWEST = (Key("filed_at", descending=True), Key("id", descending=True))


def _segments(qs) -> list[tuple[Q, tuple[Key, ...]]] | None:
    if getattr(qs, "list_segments", None) is not None:
        return qs.list_segments
    if tuple(qs.query.order_by) == ("-filed_at", "-id"):
        return [(EVERY, NEWEST)]  # the count's own condition: its branches compiled once
    return None  # an order this module does not know: the plain slice


def _fast(qs) -> bool:
    return connection.vendor == "postgresql" and _segments(qs) is not None


def _branches(qs) -> list:
    """The scope's branches made disjoint (each without the cases of those before it), so
    that their counts add up and their pages merge without a DISTINCT, as querysets."""
    # Built once per queryset: the count and the page both read them, and each narrowing
    # builds its earlier branches' negations again (issue 12: ~2 ms a page at 4 branches).
    # Kept on this queryset object only: a queryset is never changed once built, and its
    # clones (every filter, order or annotation) do not copy the attribute.
    built = getattr(qs, "list_branches", None)
    if built is None:
        built = qs.list_branches = _disjoint(qs)
    return built


def _disjoint(qs) -> list:
    branches = getattr(qs, "scope_branches", None) or [Q()]
    parts = []
    for i, branch in enumerate(branches):
        condition = branch
        for earlier in branches[:i]:
            condition &= ~earlier
        parts.append(qs.narrowed(condition) if len(branches) > 1 else qs)
    return parts


def _segment(qs, condition: Q) -> list:
    """The branches of `qs.filter(condition)`: its own branches, each filtered."""
    return [branch.filter(condition) for branch in _branches(qs)] if condition else _branches(qs)


def capped_count(qs, cap: int = COUNT_CAP, condition: Q = EVERY) -> int:
    """The number of rows (of `qs.filter(condition)`), exact up to `cap`; cap + 1 means
    "more than cap". Each branch is counted to at most cap + 1 rows, from its index alone
    where it can (an index-only scan), in one statement."""
    if connection.vendor != "postgresql":
        return qs.filter(condition).order_by()[: cap + 1].count()
    parts, params = [], []
    for branch in _compiled(qs, condition):
        # A constant, not the id: the branch's own index can answer alone.
        parts.append(
            f"(SELECT COUNT(*) FROM (SELECT 1 FROM {branch.tables}{branch.where} "
            f"LIMIT {cap + 1:d}) AS branch)"
        )
        params += branch.params
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {' + '.join(parts)}", params)
        return min(cursor.fetchone()[0], cap + 1)


@dataclass(frozen=True)
class Compiled:
    """A branch's tables and conditions as SQL, compiled once for the count and the page."""

    query: Query
    compiler: object
    tables: str  # what follows FROM: the table and any joins the conditions need
    where: str  # " WHERE …", or nothing when the branch takes every row
    params: list  # the tables' parameters, then the conditions'


def _compiled(qs, condition: Q) -> list[Compiled]:
    """The branches of `qs.filter(condition)`, compiled. The count and the page of a list
    read the same branches: compiled by the ORM for each statement, their conditions cost
    ~1.5 ms a list (issue 12), so they are compiled once, on the queryset, and the two
    statements written around them."""
    done = qs.__dict__.setdefault("list_compiled", {})
    if id(condition) not in done:  # the condition is kept with them: its id stays its own
        done[id(condition)] = (condition, [_compile(b) for b in _segment(qs, condition)])
    return done[id(condition)][1]


def _compile(branch) -> Compiled:
    query = branch.order_by().values("pk").query
    compiler = query.get_compiler(connection=connection)
    compiler.pre_sql_setup()
    tables, params = compiler.get_from_clause()
    try:
        where, where_params = compiler.compile(compiler.where)
    except FullResultSet:  # no condition at all (a user who sees everything)
        where, where_params = "", []
    where = f" WHERE {where}" if where else ""
    return Compiled(query, compiler, " ".join(tables), where, [*params, *where_params])


def _union_sql(
    qs, condition: Q, keys: tuple[Key, ...], offset: int, limit: int
) -> tuple[str, list]:
    """The ids of rows offset … offset + limit of `qs.filter(condition)` in `keys` order:
    each branch read in that order to offset + limit rows, merged, cut."""
    # Each key selected under a name of its own, so that the merge can order by name, and
    # so can each branch: ordered by the key itself, a branch would write (and the ORM
    # compile) an annotation twice, and "most overdue first" orders by two long CASEs.
    named = tuple(Key(f"list_key_{i}", k.descending, k.nulls_last) for i, k in enumerate(keys))
    aliases = {"list_id": F("pk")} | {
        n.name: _shared(qs, k.name) for n, k in zip(named, keys, strict=True)
    }
    order = ", ".join(
        f"{key.name} {'DESC' if key.descending else 'ASC'}{' NULLS LAST' if key.nulls_last else ''}"
        for key in named
    )
    parts, params = [], []
    for branch in _compiled(qs, condition):
        columns, column_params = [], []
        for name, expression in aliases.items():
            # No join: a key is a column of the case row or an annotation of it.
            resolved = expression.resolve_expression(branch.query, allow_joins=False)
            sql, expression_params = branch.compiler.compile(resolved)
            columns.append(f"{sql} AS {name}")
            column_params += expression_params
        parts.append(
            f"(SELECT {', '.join(columns)} FROM {branch.tables}{branch.where} "
            f"ORDER BY {order} LIMIT {offset + limit:d})"
        )
        params += [*column_params, *branch.params]
    merged = " UNION ALL ".join(parts)
    sql = f"SELECT list_id FROM ({merged}) AS scoped ORDER BY {order} LIMIT %s OFFSET %s"
    return sql, [*params, limit, offset]


def _shared(qs, name: str):
    """A key, as an expression every branch can select: an annotation of the case row alone
    compiled to SQL once rather than once in each branch ("most overdue first": two long
    CASEs, 4 branches, 2 segments: ~5 ms a page); anything else as the ORM writes it."""
    annotation = qs.query.annotations.get(name)
    if annotation is None or annotation.contains_aggregate:
        return F(name)
    for node in annotation.flatten():
        joined = isinstance(node, Col) and node.alias != qs.query.base_table
        if joined or isinstance(node, Query) or getattr(node, "subquery", False):
            return F(name)
    sql, params = qs.query.get_compiler(connection=connection).compile(annotation)
    return RawSQL(sql, params, output_field=annotation.output_field)


def _union_ids(qs, condition: Q, keys: tuple[Key, ...], offset: int, limit: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(*_union_sql(qs, condition, keys, offset, limit))
        return [row[0] for row in cursor.fetchall()]


PICKED = "SELECT list_picked_ids"  # where a row statement's ids go (RowReader)


class RowReader:
    """Cases by id with their related rows joined, in the statement the ORM writes for
    `select_related` (the same objects), compiled once per database connection: a list's
    rows, and the case of a case page (selectors.case_detail).

    Compiling that statement is the dearest step of a list after the database: seven
    joined tables, ~120 columns, ~1.5 ms a page of 20 and ~2 ms a page of 50 (issue 12).
    It depends only on the joins and the order, not on the user or the filters: the ids
    come already chosen (scoped and filtered) from the branches' merge, in a subquery of the
    same statement. So it is compiled once with a placeholder for the ids, and the ORM's
    own steps then turn each row into objects, as `ModelIterable` does. Kept per connection
    (a thread's own), since a compiler belongs to one."""

    def __init__(self, qs, db, keys: tuple[Key, ...]):
        self.connection = connections[db]
        template = qs.model._default_manager.filter(InSubquery(F("pk"), RawSQL(PICKED, ())))
        template = template.order_by(*(key.expression() for key in keys))
        template.query.select_related = qs.query.select_related
        self.compiler = template.query.get_compiler(connection=self.connection)
        sql, params = self.compiler.as_sql()
        if params or sql.count(PICKED) != 1:
            raise ValueError(f"a row statement this cannot fill in: {sql}")
        self.before, self.after = sql.split(PICKED)
        self.maker = ObjectMaker(self.compiler, db)

    @classmethod
    def of(cls, qs, keys: tuple[Key, ...] = ()) -> "RowReader | None":
        """The reader for `qs`'s joins, its rows in `keys` order (none: any order); None when
        its rows need more than the model's columns and those joins (deferred or extra
        columns, prefetches) or `keys` are not columns. A list's annotations only choose
        and order its ids (colours, "most overdue first"); its rows show none of them."""
        query = qs.query
        columns = {field.name for field in qs.model._meta.concrete_fields} | {"pk"}
        if (
            query.extra
            or query.deferred_loading != (frozenset(), True)
            or qs._prefetch_related_lookups
            or qs._known_related_objects  # a related manager's queryset sets its owner
            or not isinstance(query.select_related, dict)
            or not all(key.name in columns for key in keys)
        ):
            return None
        key = (qs.model, repr(query.select_related), keys)
        # On the connection object itself: the thread's own, as its compilers are.
        readers = connections[qs.db].__dict__.setdefault("case_row_readers", {})
        if key not in readers:
            readers[key] = cls(qs, qs.db, keys)
        return readers[key]

    def read(self, ids_sql: str, params: list) -> list:
        """The rows whose ids `ids_sql` selects (a statement returning one column)."""
        return self.maker.run(self.connection, f"{self.before}{ids_sql}{self.after}", params)


def case_page(qs, offset: int, limit: int) -> list:
    """Rows offset … offset + limit of a case list, in its order."""
    if not _fast(qs):
        return list(qs[offset : offset + limit])
    segments = _segments(qs)
    if len(segments) == 1:  # one query: the rows whose ids the merge picks, in its order
        condition, keys = segments[0]
        union_sql, params = _union_sql(qs, condition, keys, offset, limit)
        if (reader := RowReader.of(qs, keys)) is not None:
            return reader.read(union_sql, params)
        # `= ANY(ARRAY(…))`: the ids first (an InitPlan), then the rows by primary key.
        return list(qs.narrowed(Q(InSubquery(F("pk"), RawSQL(union_sql, params)))))
    ids: list[int] = []
    for condition, keys in segments:
        if limit <= 0:
            break
        got = _union_ids(qs, condition, keys, offset, limit)
        # Rows found: the next segment starts at its top; none: this segment ended before
        # the offset, which moves back by its length.
        if got or not offset:
            offset = 0
        else:
            offset -= capped_count(qs, cap=offset, condition=condition)
        ids += got
        limit -= len(got)
    position = {pk: i for i, pk in enumerate(ids)}
    # In the merge's order, put back here: an ORDER BY would only make the ORM write the
    # list's order (for "most overdue first", its deadline CASEs) once more.
    if not ids:
        rows = []
    elif (reader := RowReader.of(qs)) is not None:
        rows = reader.read("SELECT unnest(%s)", [ids])
    else:
        rows = list(qs.narrowed(Q(pk__in=ids)).order_by())
    rows.sort(key=lambda case: position[case.pk])
    return rows


class CaseListPaginator(Paginator):
    """Django's paginator for case lists (pages and API): a capped count and pages read by
    `case_page`. `capped`: the list has more than `count` rows."""

    cap = COUNT_CAP

    @cached_property
    def _counted(self) -> int:
        return capped_count(self.object_list, self.cap)

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @property
    def capped(self) -> bool:
        return self._counted > self.cap

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return self._get_page(case_page(self.object_list, bottom, self.per_page), number, self)

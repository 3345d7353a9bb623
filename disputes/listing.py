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

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import F, Q, Value
from django.db.models.expressions import RawSQL
from django.utils.functional import cached_property

from common.sql import InSubquery

COUNT_CAP = 10_000


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
        return [(Q(), NEWEST)]
    return None  # an order this module does not know: the plain slice


def _fast(qs) -> bool:
    return connection.vendor == "postgresql" and _segments(qs) is not None


def _branches(qs) -> list:
    """The scope's branches made disjoint (each without the cases of those before it), so
    that their counts add up and their pages merge without a DISTINCT, as querysets."""
    branches = getattr(qs, "scope_branches", None) or [Q()]
    parts = []
    for i, branch in enumerate(branches):
        condition = branch
        for earlier in branches[:i]:
            condition &= ~earlier
        parts.append(qs.narrowed(condition) if len(branches) > 1 else qs)
    return parts


def capped_count(qs, cap: int = COUNT_CAP) -> int:
    """The number of rows, exact up to `cap`; cap + 1 means "more than cap". Each branch is
    counted to at most cap + 1 rows, from its index alone where it can (an index-only scan),
    in one statement."""
    if connection.vendor != "postgresql":
        return qs.order_by()[: cap + 1].count()
    parts, params = [], []
    for branch in _branches(qs):
        # A constant, not the id: the branch's own index can answer alone.
        rows = branch.order_by().annotate(one=Value(1)).values("one")[: cap + 1]
        sql, branch_params = rows.query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS branch)")
        params += branch_params
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {' + '.join(parts)}", params)
        return min(cursor.fetchone()[0], cap + 1)


def _union_sql(qs, keys: tuple[Key, ...], offset: int, limit: int) -> tuple[str, list]:
    """The ids of rows offset … offset + limit in `keys` order: each branch read in that
    order to offset + limit rows, merged, cut."""
    # Each key selected under a name of its own, so that the merge can order by name.
    aliases = {"list_id": F("pk")} | {f"list_key_{i}": F(k.name) for i, k in enumerate(keys)}
    order = ", ".join(
        f"list_key_{i} {'DESC' if key.descending else 'ASC'}"
        f"{' NULLS LAST' if key.nulls_last else ''}"
        for i, key in enumerate(keys)
    )
    parts, params = [], []
    for branch in _branches(qs):
        branch_qs = branch.order_by(*(key.expression() for key in keys))
        top = branch_qs.annotate(**aliases).values_list(*aliases)[: offset + limit]
        sql, branch_params = top.query.sql_with_params()
        parts.append(f"({sql})")
        params += branch_params
    merged = " UNION ALL ".join(parts)
    sql = f"SELECT list_id FROM ({merged}) AS scoped ORDER BY {order} LIMIT %s OFFSET %s"
    return sql, [*params, limit, offset]


def _union_ids(qs, keys: tuple[Key, ...], offset: int, limit: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(*_union_sql(qs, keys, offset, limit))
        return [row[0] for row in cursor.fetchall()]


def case_page(qs, offset: int, limit: int) -> list:
    """Rows offset … offset + limit of a case list, in its order."""
    if not _fast(qs):
        return list(qs[offset : offset + limit])
    segments = _segments(qs)
    if len(segments) == 1:  # one query: the rows whose ids the merge picks, in its order
        condition, keys = segments[0]
        picked = RawSQL(*_union_sql(qs.filter(condition), keys, offset, limit))
        # `= ANY(ARRAY(…))`: the ids first (an InitPlan), then the rows by primary key.
        return list(qs.narrowed(Q(InSubquery(F("pk"), picked))))
    ids: list[int] = []
    for condition, keys in segments:
        if limit <= 0:
            break
        part = qs.filter(condition)
        got = _union_ids(part, keys, offset, limit)
        # Rows found: the next segment starts at its top; none: this segment ended before
        # the offset, which moves back by its length.
        if got or not offset:
            offset = 0
        else:
            offset -= capped_count(part, cap=offset)
        ids += got
        limit -= len(got)
    position = {pk: i for i, pk in enumerate(ids)}
    rows = list(qs.narrowed(Q(pk__in=ids))) if ids else []
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

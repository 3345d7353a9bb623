"""The figures of the triage dashboard, the big screen and the stats API.

Selectors only: pure reads, each aggregated in the database in one query (GROUP BY on the
ancestor ids copied onto every case, conditional counts with FILTER), so a page costs the
same number of queries for a street with ten cases as for a district with a million. The
aggregate queries are built with the ORM and compiled once per shape (see `_fetch`).

Which cases an area's figures cover: those that happened in the area (the copied
`district`/`street`/`community`/`grid` columns), whoever handles them now. Two sets:

- the period's cases: filed between `from` and `to` (local dates, both included). Every
  rate and chart is over this cohort, so a drill-down's children add up to their parent;
- the open cases now (status filed … in mediation): colours, reasons, due soon (a deadline
  in its warning window: `sla.clock.annotate_due_soon`, the badge the case lists show), due
  within 24 hours (the stats API's `due_within_24h`), the queue.

Definitions (shown on the page as well, see DEFINITIONS):

- resolution rate (化解率) = substantively resolved / counted, where counted = the period's
  cases minus withdrawn ones, and substantively resolved = status "resolved" (an agreement or
  a partial agreement, including on the spot) or "closed" with close kind "substantive".
  Procedural closes, failed mediations and referrals never count as resolved;
- closing rate (办结率) = concluded / counted, concluded = resolved, closed or referred;
- on-time rate of a step (assignment, first handling, closing) = done in time / due, where
  due = the step was done, or is overdue now and not done. A step still within its limit is
  not counted either way, so a fresh case does not lower the rate;
- satisfaction rate (满意率) = "satisfied" or "basically satisfied" answers ÷ answers, over
  the answers residents gave in the period (a rating of a closed case, or their answer on a
  callback; each case once, by its latest answer). It is the residents app's figure
  (`residents.selectors.satisfaction_rate`), so the callback pages and the dashboard agree;
  unlike the rates above it follows when residents answered, not when the case was filed.
"""

from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from django.db import connection
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from disputes.models import OPEN_STATUSES, Case, CaseStatus, Category, Channel, CloseKind
from disputes.selectors import case_list, mediator_candidates
from grids.models import Area, AreaLevel
from residents import selectors as residents_selectors
from sla.clock import GREEN, ORANGE, RED, annotate_due_soon, annotate_sla, evaluate

from .compiled import QueryArgs, fetch, query_args
from .periods import GROUP_DISPUTE_MIN_PEOPLE, HOTSPOT_MIN_CASES, Period

S = CaseStatus
QUEUE_STATUSES = (S.FILED, S.ACCEPTED)
QUEUE_SIZE = 25
HOTSPOT_LIMIT = 20


# The child area a case counts under, by the level of the parent: a grid directly under a
# street has no community, so the street's children are "community, else grid"; a case
# filed on a grid itself (not on one of its micro-grids) counts under the grid.
CHILD_COLUMNS = {
    None: ("district_id",),
    AreaLevel.DISTRICT: ("street_id",),
    AreaLevel.STREET: ("community_id", "grid_id", "area_id"),
    AreaLevel.COMMUNITY: ("grid_id", "area_id"),
    AreaLevel.GRID: ("area_id",),
    AreaLevel.DEDICATED: ("area_id",),
    AreaLevel.MICRO_GRID: (),
}


def _child_expression(level: str | None):
    columns = CHILD_COLUMNS[level]
    if not columns:
        return None
    if len(columns) == 1:
        return F(columns[0])
    return Coalesce(*columns, output_field=IntegerField())


# --- the conditions behind every figure ----------------------------------------------------

# A resolution counts once its check (核查) passed; where the policy asks for no check, once
# it is resolved. One waiting for its check is "awaiting check", not yet resolved.
AWAITING_CHECK = Q(status=S.RESOLVED, verify_due_at__isnull=False)
RESOLVED = Q(status=S.RESOLVED, verify_due_at__isnull=True) | Q(
    status=S.CLOSED, close_kind=CloseKind.SUBSTANTIVE
)
CONCLUDED = Q(status__in=(S.RESOLVED, S.CLOSED, S.REFERRED))
WITHDRAWN = Q(status=S.WITHDRAWN)
OPEN = Q(status__in=OPEN_STATUSES)
QUEUED = Q(status__in=QUEUE_STATUSES)
GROUP = Q(people_involved__gte=GROUP_DISPUTE_MIN_PEOPLE)


def _on_time_conditions() -> dict[str, tuple[Q, Q]]:
    """(done in time, late or overdue) per step; needs annotate_sla's columns."""
    concluded_in_time = (
        Q(status=S.CLOSED, closed_on_time=True)
        | Q(status=S.RESOLVED, resolved_at__lte=F("close_due_at"))
        | Q(status=S.REFERRED, referred_at__lte=F("close_due_at"))
    )
    concluded_late = (
        Q(status=S.CLOSED, closed_on_time=False)
        | Q(status=S.RESOLVED, resolved_at__gt=F("close_due_at"))
        | Q(status=S.REFERRED, referred_at__gt=F("close_due_at"))
    )
    return {
        "assign": (
            Q(assigned_on_time=True, sla_not_assigned=False),
            Q(assigned_on_time=False) | Q(sla_not_assigned=True),
        ),
        "first_handling": (
            Q(first_update_on_time=True, sla_not_handled=False),
            Q(first_update_on_time=False) | Q(sla_not_handled=True),
        ),
        "closing": (
            concluded_in_time & Q(sla_past_close=False),
            concluded_late | Q(sla_past_close=True),
        ),
    }


def _due_within_q(now: datetime, soon: datetime) -> Q:
    running = OPEN & Q(clock_paused_at__isnull=True)
    return running & (
        Q(close_due_at__gt=now, close_due_at__lte=soon)
        | Q(assigned_at__isnull=True, assign_due_at__gt=now, assign_due_at__lte=soon)
        | Q(
            assigned_at__isnull=False,
            first_progress_at__isnull=True,
            first_update_due_at__gt=now,
            first_update_due_at__lte=soon,
        )
    )


def _aggregates(a: "QueryArgs") -> dict:
    """Every count, as conditional counts over "the period's cases or open now"."""
    p = Q(filed_at__gte=a.start, filed_at__lt=a.end)
    counts = {
        "filed": Count("pk", filter=p),
        "withdrawn": Count("pk", filter=p & WITHDRAWN),
        "resolved": Count("pk", filter=p & RESOLVED),
        "concluded": Count("pk", filter=p & CONCLUDED),
        "open": Count("pk", filter=OPEN),
        "red": Count("pk", filter=OPEN & Q(sla_colour=RED)),
        "orange": Count("pk", filter=OPEN & Q(sla_colour=ORANGE)),
        "green": Count("pk", filter=OPEN & Q(sla_colour=GREEN)),
        "unassigned": Count("pk", filter=QUEUED),
        "awaiting_check": Count("pk", filter=AWAITING_CHECK),
        "group_disputes": Count("pk", filter=p & GROUP),
        "not_assigned": Count("pk", filter=Q(sla_not_assigned=True)),
        "not_handled": Count("pk", filter=Q(sla_not_handled=True)),
        "past_close": Count("pk", filter=Q(sla_past_close=True)),
        "due_soon": Count("pk", filter=Q(sla_due_soon=True)),
        "due_24h": Count("pk", filter=_due_within_q(a.now, a.soon)),
    }
    for step, (in_time, late) in _on_time_conditions().items():
        counts[f"{step}_in_time"] = Count("pk", filter=p & in_time)
        counts[f"{step}_due"] = Count("pk", filter=p & (in_time | late))
    return counts


# The names of the counts (building the expressions only to read their names costs a
# millisecond).
_AGGREGATE_KEYS = (
    "filed",
    "withdrawn",
    "resolved",
    "concluded",
    "open",
    "red",
    "orange",
    "green",
    "unassigned",
    "awaiting_check",
    "group_disputes",
    "not_assigned",
    "not_handled",
    "past_close",
    "due_soon",
    "due_24h",
    *(
        f"{step}_{part}"
        for step in ("assign", "first_handling", "closing")
        for part in ("in_time", "due")
    ),
)


def _cases(a: "QueryArgs"):
    return Case.objects.filter(a.scope()).order_by()


def _period_or_open(a: "QueryArgs"):
    """The only rows any figure reads: the period's cases and the open ones. Each side is
    an index range (area + filed_at; area + open status), so the scan stays small however
    long the area's history is."""
    period = Q(filed_at__gte=a.start, filed_at__lt=a.end)
    return annotate_due_soon(annotate_sla(_cases(a).filter(period | OPEN), a.now), a.now)


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _with_rates(row: dict) -> dict:
    row["counted"] = row["filed"] - row["withdrawn"]
    row["resolution_rate"] = rate(row["resolved"], row["counted"])
    row["closing_rate"] = rate(row["concluded"], row["counted"])
    return row


# --- compiled once, run many times -----------------------------------------------------------
#
# Django needs tens of milliseconds to compile an aggregate of thirty conditional counts
# (each inlining annotate_sla's CASE expressions), which is more than PostgreSQL needs to
# run it on a street: the compiler, not the database, would set the page's time. Each query
# has a shape fixed by the area's level (and daily or monthly trend); the area id, the
# period's bounds and the clock are its only variable parameters. So each shape is built
# with the ORM once per process, with sentinel values that cannot occur, and every call
# re-runs that SQL with its own values put where the sentinels were.


# --- figures ----------------------------------------------------------------------------------


def _summary_query(a: QueryArgs):
    # A constant "group" compiles to a plain aggregate: one row, even over no rows.
    return (
        _period_or_open(a)
        .values(_all=Value(1, output_field=IntegerField()))
        .annotate(**_aggregates(a))
        .values(*_aggregates(a))
    )


def _headline(row: dict) -> dict:
    row = _with_rates(row)
    for step in ("assign", "first_handling", "closing"):
        row[f"{step}_on_time_rate"] = rate(row[f"{step}_in_time"], row[f"{step}_due"])
    return row


def summary(*, area: Area | None, period: Period, now: datetime) -> dict:
    """Every headline figure of the cases for the area, in one query (the satisfaction rate,
    which comes from the residents' answers, is separate: `satisfaction_rate`)."""
    a = query_args(area, period, now)
    return _headline(fetch("summary", a, _summary_query)[0])


def satisfaction_rate(*, area: Area | None, period: Period) -> float | None:
    """满意率 (0–1, None when no resident answered in the period), exactly as the residents
    app counts it, so the dashboard, the callback pages and their API never disagree. Two
    queries (ratings, callback answers), whatever the data size. Kept out of `summary`: the
    counts panel and the drill-down do not show it and should not pay for it."""
    value = residents_selectors.satisfaction_rate(area, period.start, period.end)
    return None if value is None else round(value, 4)  # as `rate` rounds the others


def _by_area_query(a: QueryArgs):
    return _period_or_open(a).values(child=_child_expression(a.level)).annotate(**_aggregates(a))


def overview(*, area: Area | None, period: Period, now: datetime) -> tuple[dict, list[dict]]:
    """(summary, by_area) from one pass over the area's cases, grouped by child area: the
    headline figures are the sum of the children's, so the drill-down adds up by
    construction and a page that shows both reads the rows once. Two queries (the grouped
    counts and the child areas' names); an area without children gets its summary alone."""
    a = query_args(area, period, now)
    if _child_expression(a.level) is None:
        return summary(area=area, period=period, now=now), []
    grouped = {row.pop("child"): row for row in fetch("by_area", a, _by_area_query)}
    keys = _AGGREGATE_KEYS
    total = {key: sum(row[key] for row in grouped.values()) for key in keys}
    children = Q(depth=1) if area is None else Q(parent_id=area.pk)
    areas = (
        Area.objects.filter(children | Q(pk__in=list(grouped)))
        .order_by("path")
        .values_list("pk", "name", "level", "path")
    )
    rows = []
    for child_area in map(AreaRef._make, areas):
        row = _with_rates(dict(grouped.get(child_area.pk) or dict.fromkeys(keys, 0)))
        is_self = area is not None and child_area.pk == area.pk
        rows.append({"area": child_area, "is_self": is_self, **row})
    # The parent itself (cases filed on the grid, not on a micro-grid) goes last.
    rows.sort(key=lambda r: r["is_self"])
    return _headline(total), rows


class AreaRef(NamedTuple):
    """An area as the figures name it (lighter than a model instance, for long lists)."""

    pk: int
    name: str
    level: str
    path: str


def by_area(*, area: Area | None, period: Period, now: datetime) -> list[dict]:
    """One row per child area (every child, with zeros), plus the area itself when cases
    were filed on it directly; the rows add up to the area's summary. Two queries."""
    return overview(area=area, period=period, now=now)[1]


def _in_period(a: QueryArgs):
    return _cases(a).filter(filed_at__gte=a.start, filed_at__lt=a.end)


def _by_category_query(a: QueryArgs):
    return (
        _in_period(a)
        .values(
            top_id=Coalesce("category__parent_id", "category__id"),
            name=Coalesce("category__parent__name", "category__name"),
        )
        .annotate(filed=Count("pk"), resolved=Count("pk", filter=RESOLVED))
    )


def by_category(*, area: Area | None, period: Period) -> list[dict]:
    """The period's cases by first-level dispute type, largest first. One query."""
    rows = fetch("by_category", query_args(area, period, _EPOCH), _by_category_query)
    result = [{"category_id": r.pop("top_id"), **r} for r in rows]
    return sorted(result, key=lambda r: (-r["filed"], r["name"]))


def _by_channel_query(a: QueryArgs):
    return _in_period(a).values("channel").annotate(filed=Count("pk"))


def by_channel(*, area: Area | None, period: Period) -> list[dict]:
    labels = dict(Channel.choices)
    rows = fetch("by_channel", query_args(area, period, _EPOCH), _by_channel_query)
    result = [{**r, "label": labels.get(r["channel"], r["channel"])} for r in rows]
    return sorted(result, key=lambda r: (-r["filed"], r["channel"]))


def _trend_query(a: QueryArgs, by_month: bool):
    tz = timezone.get_current_timezone()
    bucket = (TruncMonth if by_month else TruncDate)("filed_at", tzinfo=tz)
    return (
        _in_period(a)
        .annotate(bucket=bucket)
        .values("bucket")
        .annotate(filed=Count("pk"), resolved=Count("pk", filter=RESOLVED))
    )


def _as_date(value) -> date:
    """A day or month bucket as the database returns it (a date, a local datetime, or text
    on SQLite) as a date."""
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value


def trend(*, area: Area | None, period: Period) -> dict:
    """Cases filed (and of them resolved) per day, or per month for long periods, with the
    empty days filled in. One query."""
    by_month = period.by_month
    rows = fetch(
        "trend",
        query_args(area, period, _EPOCH),
        lambda a: _trend_query(a, by_month),
        variant="month" if by_month else "day",
    )
    found = {_as_date(r["bucket"]): r for r in rows}
    points = []
    for day in _buckets(period):
        r = found.get(day, {})
        points.append({"date": day, "filed": r.get("filed", 0), "resolved": r.get("resolved", 0)})
    return {"granularity": "month" if by_month else "day", "points": points}


def _buckets(period: Period):
    if not period.by_month:
        for offset in range(period.days):
            yield period.start + timedelta(days=offset)
        return
    month = period.start.replace(day=1)
    while month <= period.end:
        yield month
        month = (month + timedelta(days=32)).replace(day=1)


def _hot_addresses_query(a: QueryArgs):
    return (
        _in_period(a)
        .values("address")
        .annotate(cases=Count("pk"), open=Count("pk", filter=OPEN))
        .filter(cases__gte=HOTSPOT_MIN_CASES)
        .order_by("-cases", "address")[:HOTSPOT_LIMIT]
    )


def _hot_micro_grids_query(a: QueryArgs):
    # A case is on a micro-grid when its area is below its grid (filing happens on grids,
    # dedicated grids and micro-grids only): no join on the area table, whose 137,000 rows
    # a district-wide plan would otherwise hash.
    return (
        _in_period(a)
        .filter(grid_id__isnull=False)
        .exclude(area_id=F("grid_id"))
        .values("area_id")
        .annotate(cases=Count("pk"), open=Count("pk", filter=OPEN))
        .filter(cases__gte=HOTSPOT_MIN_CASES)
        .order_by("-cases", "area_id")[:HOTSPOT_LIMIT]
    )


def _group_disputes_query(a: QueryArgs):
    return (
        _in_period(a)
        .filter(GROUP)
        .values(
            "id",
            "number",
            "cause",
            "people_involved",
            "status",
            "area_id",
            area_name=F("area__name"),
        )
        .order_by("-people_involved", "-filed_at", "-pk")[:HOTSPOT_LIMIT]
    )


def _group_dispute(row: dict) -> dict:
    return {"pk": row.pop("id"), **row, "is_open": row["status"] in OPEN_STATUSES}


def hotspots(*, area: Area | None, period: Period) -> dict:
    """Early warning: addresses and micro-grids with several disputes in the period, and
    group disputes (as dicts, open ones flagged `is_open`). Four queries (the micro-grids'
    names come separately)."""
    a = query_args(area, period, _EPOCH)
    groups = map(_group_dispute, fetch("group_disputes", a, _group_disputes_query))
    micro_grids = fetch("hot_micro_grids", a, _hot_micro_grids_query)
    names = dict(
        Area.objects.filter(pk__in=[r["area_id"] for r in micro_grids]).values_list("pk", "name")
    )
    for row in micro_grids:
        row["name"] = names.get(row["area_id"], "")
    micro_grids.sort(key=lambda r: (-r["cases"], r["name"]))
    return {
        "addresses": fetch("hot_addresses", a, _hot_addresses_query),
        "micro_grids": [
            {"area_id": r["area_id"], "name": r["name"], "cases": r["cases"], "open": r["open"]}
            for r in micro_grids
        ],
        "group_disputes": list(groups),
    }


# Figures of the period alone do not depend on the clock.
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


# --- the triage queue -----------------------------------------------------------------------


def _with_colour(cases, now: datetime) -> list[Case]:
    # sla.evaluate, the pure twin of annotate_sla, on the few rows shown: cheaper than
    # compiling the CASE expressions into the query every time.
    for case in cases:
        case.sla_colour = evaluate(case, now)[0]
    return cases


def _queue_rows():
    # The handling area comes whole (permissions read its path); names alone otherwise.
    return Case.objects.select_related("category", "handling_area").annotate(
        category_parent_name=F("category__parent__name"), area_name=F("area__name")
    )


# What a queue row reads of the case's category and handling area (permissions read the
# area's path); everything else of them stays deferred.
_QUEUE_RELATED = {
    "category": (Category, ("id", "name")),
    "handling_area": (Area, ("id", "path", "name", "level", "depth")),
}


def _queue_query(a: QueryArgs, limit: int):
    related = {
        f"{relation}__{name}": F(f"{relation}__{name}")
        for relation, (_model, names) in _QUEUE_RELATED.items()
        for name in names
    }
    return (
        Case.objects.filter(a.scope(), QUEUED)
        .order_by("assign_due_at", "filed_at", "pk")
        .values(
            *(f.attname for f in Case._meta.concrete_fields),
            category_parent_name=F("category__parent__name"),
            area_name=F("area__name"),
            **{key.replace("__", "."): value for key, value in related.items()},
        )[:limit]
    )


_converters: dict[tuple, list] = {}


def _from_db(model, names, values):
    """model.from_db on raw cursor values, converted as the ORM would (SQLite returns
    datetimes as naive text, for one). from_db takes a partial row's values in the
    model's field order, whatever the order of `names`: they are put in that order here."""
    order = {f.attname: i for i, f in enumerate(model._meta.concrete_fields)}
    pairs = sorted(zip(names, values, strict=True), key=lambda pair: order[pair[0]])
    names, values = [name for name, _v in pairs], [value for _n, value in pairs]
    key = (model, tuple(names), connection.alias, connection.vendor)
    if key not in _converters:
        columns = [model._meta.get_field(name).cached_col for name in names]
        _converters[key] = [
            (i, col, converters)
            for i, col in enumerate(columns)
            if (
                converters := connection.ops.get_db_converters(col)
                + col.get_db_converters(connection)
            )
        ]
    values = list(values)
    for i, col, converters in _converters[key]:
        for convert in converters:
            values[i] = convert(values[i], col, connection)
    return model.from_db(connection.alias, names, values)


def _queue_case(row: dict) -> Case:
    """A whole Case from a queue row, with its category and handling area attached (as
    select_related would), built without the ORM compiling the query again."""
    names = [f.attname for f in Case._meta.concrete_fields]
    case = _from_db(Case, names, [row[name] for name in names])
    for relation, (model, fields) in _QUEUE_RELATED.items():
        values = [row[f"{relation}.{name}"] for name in fields]
        setattr(case, relation, _from_db(model, list(fields), values))
    case.category_parent_name = row["category_parent_name"]
    case.area_name = row["area_name"]
    return case


def triage_queue(*, area: Area | None, now: datetime, limit: int = QUEUE_SIZE) -> list[Case]:
    """Unassigned cases (filed or accepted), the nearest assignment deadline first. The
    page's one list of model instances, so it goes through the compiled-once path too:
    compiling this select (three joins, fifty columns) cost more than running it."""
    a = query_args(area, Period(_EPOCH.date(), _EPOCH.date()), now)
    rows = fetch("queue", a, lambda args: _queue_query(args, limit), variant=str(limit))
    return _with_colour([_queue_case(row) for row in rows], now)


def queue_case(*, user, pk: int, now: datetime) -> Case | None:
    """One case as a queue row, if the user may see it (None otherwise)."""

    visible = case_list(user=user).filter(pk=pk).values("pk")
    case = _queue_rows().filter(pk__in=visible).first()
    return _with_colour([case], now)[0] if case else None


def mediators_by_load(*, case: Case):
    """Who may mediate this case, the least loaded first: load = open cases they mediate
    now. One query (a correlated count per candidate)."""
    load = (
        Case.objects.filter(mediator=OuterRef("pk"), status__in=OPEN_STATUSES)
        .order_by()
        .values("mediator")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        mediator_candidates(case=case)
        .annotate(open_load=Coalesce(Subquery(load, output_field=IntegerField()), Value(0)))
        .order_by("open_load", "real_name", "username")
    )


# --- labels the pages and the API share -------------------------------------------------------


def area_label(area: Area | None) -> str:
    return area.name if area is not None else str(_("All districts"))

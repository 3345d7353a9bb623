"""The figures of the triage dashboard, the big screen and the stats API.

Selectors only: pure reads, each aggregated in the database in one query (GROUP BY on the
ancestor ids copied onto every case, conditional counts with FILTER), so a page costs the
same number of queries for a street with ten cases as for a district with a million.

Which cases an area's figures cover: those that happened in the area (the copied
`district`/`street`/`community`/`grid` columns), whoever handles them now. Two sets:

- the period's cases: filed between `from` and `to` (local dates, both included). Every
  rate and chart is over this cohort, so a drill-down's children add up to their parent;
- the open cases now (status filed … in mediation): colours, reasons, due soon, the queue.

Definitions (shown on the page as well, see DEFINITIONS):

- resolution rate (化解率) = substantively resolved / counted, where counted = the period's
  cases minus withdrawn ones, and substantively resolved = status "resolved" (an agreement or
  a partial agreement, including on the spot) or "closed" with close kind "substantive".
  Procedural closes, failed mediations and referrals never count as resolved;
- closing rate (办结率) = concluded / counted, concluded = resolved, closed or referred;
- on-time rate of a step (assignment, first handling, closing) = done in time / due, where
  due = the step was done, or is overdue now and not done. A step still within its limit is
  not counted either way, so a fresh case does not lower the rate;
- satisfaction rate (满意率): residents' ratings do not exist yet; see `satisfaction`.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.models import Area, AreaLevel, Role
from grids.selectors import user_scope

from .models import OPEN_STATUSES, Case, CaseStatus, Channel, CloseKind
from .selectors import LEVEL_COLUMN, mediator_candidates
from .sla import GREEN, ORANGE, RED, annotate_sla

S = CaseStatus
# Roles with a dashboard, at the area they are assigned to (and everything below it).
DASHBOARD_ROLES = frozenset(
    {Role.COMMUNITY_SECRETARY, Role.STREET_STAFF, Role.STREET_LEADER, Role.DISTRICT_STAFF,
     Role.ADMIN}
)  # fmt: skip
QUEUE_STATUSES = (S.FILED, S.ACCEPTED)
QUEUE_SIZE = 25
HOTSPOT_MIN_CASES = 3
GROUP_DISPUTE_MIN_PEOPLE = 10
HOTSPOT_LIMIT = 20
DUE_SOON = timedelta(hours=24)
# A daily trend longer than this is shown by month.
DAILY_TREND_MAX_DAYS = 92
MAX_PERIOD_DAYS = 3660

DEFINITIONS = [
    (_("Cases filed"), _("Disputes filed in the area between the two dates, both included.")),
    (
        _("Resolution rate"),
        _(
            "Substantively resolved ÷ counted cases. Counted: the period's cases except "
            "withdrawn ones. Substantively resolved: an agreement or a partial agreement was "
            "reached (also on the spot), whether or not the case is formally closed yet. "
            "Procedural closes, failed mediations and referrals do not count."
        ),
    ),
    (
        _("Closing rate"),
        _("Concluded ÷ counted cases. Concluded: resolved, closed (of any kind) or referred."),
    ),
    (
        _("On-time rates"),
        _(
            "For each step (assignment within its limit, first handling after assignment, "
            "concluding before the closing deadline): steps done in time ÷ steps due. Due: "
            "the step was done, or its limit has passed without it. Steps still within their "
            "limit are not counted."
        ),
    ),
    (_("Satisfaction rate"), _("Satisfied ratings ÷ ratings. Residents cannot rate yet.")),
    (
        _("Colours"),
        _(
            "Open cases now, whatever their filing date: red past the closing deadline, "
            "orange a step not done on time, green otherwise."
        ),
    ),
    (
        _("Hot spots"),
        _(
            "Addresses and micro-grids with %(n)d or more disputes in the period, and group "
            "disputes involving %(people)d or more people."
        )
        % {"n": HOTSPOT_MIN_CASES, "people": GROUP_DISPUTE_MIN_PEOPLE},
    ),
]


# --- where and when -------------------------------------------------------------------------


def dashboard_roots(user) -> list[Area] | None:
    """The areas whose dashboard the user may open (and everything below them); None means
    the whole system. PermissionDenied for users without a dashboard role."""
    scope = user_scope(user)
    if scope.sees_everything:
        return None
    areas = sorted(
        (a.area for a in scope.assignments if a.area_id and a.role in DASHBOARD_ROLES),
        key=lambda area: area.path,
    )
    roots: list[Area] = []
    for area in areas:
        if not any(area.path.startswith(root.path) for root in roots):
            roots.append(area)
    if not roots:
        raise PermissionDenied(_("The dashboard is for community, street and district staff."))
    return roots


def dashboard_areas(user):
    """Every area the user may see figures for (for validating ?area=)."""
    roots = dashboard_roots(user)
    if roots is None:
        return Area.objects.all()
    condition = Q()
    for root in roots:
        condition |= Q(path__startswith=root.path)
    return Area.objects.filter(condition)


def default_area(user) -> Area | None:
    roots = dashboard_roots(user)
    return None if roots is None else roots[0]


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """[start 00:00, the day after `end` 00:00) in local time."""
        tz = timezone.get_current_timezone()
        start = timezone.make_aware(datetime.combine(self.start, time.min), tz)
        end = timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min), tz)
        return start, end

    @property
    def by_month(self) -> bool:
        return self.days > DAILY_TREND_MAX_DAYS


def period_for(start: date | None, end: date | None, *, today: date | None = None) -> Period:
    """This month so far by default; one missing end is filled in. ValueError if reversed
    or longer than about ten years."""
    today = today or timezone.localdate()
    if start is None and end is None:
        return Period(today.replace(day=1), today)
    if start is None:
        start = end.replace(day=1)
    if end is None:
        end = max(today, start)
    if start > end:
        raise ValueError(_("The start date is after the end date."))
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise ValueError(_("Choose a period of at most ten years."))
    return Period(start, end)


def scope_q(area: Area | None) -> Q:
    """Cases that happened in the area: one indexed equality on a copied ancestor column."""
    if area is None:
        return Q()
    return Q(**{LEVEL_COLUMN[area.level]: area.pk})


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


def _child_expression(area: Area | None):
    columns = CHILD_COLUMNS[area.level if area else None]
    if not columns:
        return None
    if len(columns) == 1:
        return F(columns[0])
    return Coalesce(*columns, output_field=IntegerField())


# --- the conditions behind every figure ----------------------------------------------------

RESOLVED = Q(status=S.RESOLVED) | Q(status=S.CLOSED, close_kind=CloseKind.SUBSTANTIVE)
CONCLUDED = Q(status__in=(S.RESOLVED, S.CLOSED, S.REFERRED))
WITHDRAWN = Q(status=S.WITHDRAWN)
OPEN = Q(status__in=OPEN_STATUSES)
QUEUED = Q(status__in=QUEUE_STATUSES)
GROUP = Q(people_involved__gte=GROUP_DISPUTE_MIN_PEOPLE)


def _period_q(period: Period) -> Q:
    start, end = period.bounds
    return Q(filed_at__gte=start, filed_at__lt=end)


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


def _due_soon_q(now: datetime) -> Q:
    soon = now + DUE_SOON
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


def _aggregates(period: Period, now: datetime, *, full: bool) -> dict:
    """Conditional counts over "the period's cases or open now". `full` adds the on-time
    and current-detail counts the summary needs (the per-area table needs fewer)."""
    p = _period_q(period)
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
    }
    if full:
        for step, (in_time, late) in _on_time_conditions().items():
            counts[f"{step}_in_time"] = Count("pk", filter=p & in_time)
            counts[f"{step}_due"] = Count("pk", filter=p & (in_time | late))
        counts |= {
            "group_disputes": Count("pk", filter=p & GROUP),
            "not_assigned": Count("pk", filter=Q(sla_not_assigned=True)),
            "not_handled": Count("pk", filter=Q(sla_not_handled=True)),
            "past_close": Count("pk", filter=Q(sla_past_close=True)),
            "due_soon": Count("pk", filter=_due_soon_q(now)),
        }
    return counts


def _period_or_open(area: Area | None, period: Period, now: datetime):
    """The only rows any figure reads: the period's cases and the open ones. Each side is
    an index range (area + filed_at; area + open status), so the scan stays small however
    long the area's history is."""
    qs = Case.objects.filter(scope_q(area)).filter(_period_q(period) | OPEN).order_by()
    return annotate_sla(qs, now)


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _with_rates(row: dict) -> dict:
    row["counted"] = row["filed"] - row["withdrawn"]
    row["resolution_rate"] = rate(row["resolved"], row["counted"])
    row["closing_rate"] = rate(row["concluded"], row["counted"])
    return row


# --- figures ----------------------------------------------------------------------------------


def summary(*, area: Area | None, period: Period, now: datetime) -> dict:
    """Every headline figure for the area, in one query."""
    row = _period_or_open(area, period, now).aggregate(**_aggregates(period, now, full=True))
    row = _with_rates(row)
    for step in ("assign", "first_handling", "closing"):
        row[f"{step}_on_time_rate"] = rate(row[f"{step}_in_time"], row[f"{step}_due"])
    row["satisfaction"] = satisfaction(area=area, period=period)
    return row


def satisfaction(*, area: Area | None, period: Period) -> dict:
    """The hook for residents' ratings (满意率). Nothing stores a rating yet, so there is
    nothing to count: the page shows "no ratings yet". When ratings arrive (a Case field or a
    related model), count them here over the period's cases, e.g.
    `Count("pk", filter=_period_q(period) & Q(rating__gte=4))` ÷ rated cases, and add the
    query to the summary's aggregate so the page keeps its fixed number of queries."""
    return {"rated": 0, "satisfied": 0, "rate": None}


def by_area(*, area: Area | None, period: Period, now: datetime) -> list[dict]:
    """One row per child area (every child, with zeros), plus the area itself when cases
    were filed on it directly; the rows add up to the area's summary. Two queries."""
    child = _child_expression(area)
    if child is None:
        return []
    grouped = {
        row.pop("child"): _with_rates(row)
        for row in _period_or_open(area, period, now)
        .values(child=child)
        .annotate(**_aggregates(period, now, full=False))
    }
    children = Q(depth=1) if area is None else Q(parent_id=area.pk)
    areas = Area.objects.filter(children | Q(pk__in=list(grouped))).only(
        "pk", "name", "level", "path"
    )
    empty = {key: 0 for key in _aggregates(period, now, full=False)}
    rows = []
    for child_area in areas.order_by("path"):
        row = grouped.get(child_area.pk) or _with_rates(dict(empty))
        is_self = area is not None and child_area.pk == area.pk
        rows.append({"area": child_area, "is_self": is_self, **row})
    # The parent itself (cases filed on the grid, not on a micro-grid) goes last.
    rows.sort(key=lambda r: r["is_self"])
    return rows


def by_category(*, area: Area | None, period: Period) -> list[dict]:
    """The period's cases by first-level dispute type, largest first. One query."""
    rows = (
        Case.objects.filter(scope_q(area), _period_q(period))
        .order_by()
        .values(
            top_id=Coalesce("category__parent_id", "category_id"),
            name=Coalesce("category__parent__name", "category__name"),
        )
        .annotate(filed=Count("pk"), resolved=Count("pk", filter=RESOLVED))
    )
    result = [{"category_id": r.pop("top_id"), **r} for r in rows]
    return sorted(result, key=lambda r: (-r["filed"], r["name"]))


def by_channel(*, area: Area | None, period: Period) -> list[dict]:
    labels = dict(Channel.choices)
    rows = (
        Case.objects.filter(scope_q(area), _period_q(period))
        .order_by()
        .values("channel")
        .annotate(filed=Count("pk"))
    )
    result = [{**r, "label": labels.get(r["channel"], r["channel"])} for r in rows]
    return sorted(result, key=lambda r: (-r["filed"], r["channel"]))


def trend(*, area: Area | None, period: Period) -> dict:
    """Cases filed (and of them resolved) per day, or per month for long periods, with the
    empty days filled in. One query."""
    tz = timezone.get_current_timezone()
    bucket = (TruncMonth if period.by_month else TruncDate)("filed_at", tzinfo=tz)
    rows = (
        Case.objects.filter(scope_q(area), _period_q(period))
        .order_by()
        .annotate(bucket=bucket)
        .values("bucket")
        .annotate(filed=Count("pk"), resolved=Count("pk", filter=RESOLVED))
    )
    found = {}
    for r in rows:
        key = r["bucket"]
        key = key.date() if isinstance(key, datetime) else key
        found[key] = r
    points = []
    for day in _buckets(period):
        r = found.get(day, {})
        points.append({"date": day, "filed": r.get("filed", 0), "resolved": r.get("resolved", 0)})
    return {"granularity": "month" if period.by_month else "day", "points": points}


def _buckets(period: Period):
    if not period.by_month:
        for offset in range(period.days):
            yield period.start + timedelta(days=offset)
        return
    month = period.start.replace(day=1)
    while month <= period.end:
        yield month
        month = (month + timedelta(days=32)).replace(day=1)


def hotspots(*, area: Area | None, period: Period) -> dict:
    """Early warning: addresses and micro-grids with several disputes in the period, and
    group disputes. Three queries."""
    cases = Case.objects.filter(scope_q(area), _period_q(period)).order_by()
    addresses = (
        cases.values("address")
        .annotate(cases=Count("pk"), open=Count("pk", filter=OPEN))
        .filter(cases__gte=HOTSPOT_MIN_CASES)
        .order_by("-cases", "address")[:HOTSPOT_LIMIT]
    )
    micro_grids = (
        cases.filter(area__level=AreaLevel.MICRO_GRID)
        .values("area_id", "area__name")
        .annotate(cases=Count("pk"), open=Count("pk", filter=OPEN))
        .filter(cases__gte=HOTSPOT_MIN_CASES)
        .order_by("-cases", "area__name")[:HOTSPOT_LIMIT]
    )
    groups = (
        cases.filter(GROUP)
        .select_related("area")
        .only("pk", "number", "cause", "people_involved", "status", "filed_at", "area__name")
        .order_by("-people_involved", "-filed_at", "-pk")[:HOTSPOT_LIMIT]
    )
    return {
        "addresses": list(addresses),
        "micro_grids": [
            {
                "area_id": r["area_id"],
                "name": r["area__name"],
                "cases": r["cases"],
                "open": r["open"],
            }
            for r in micro_grids
        ],
        "group_disputes": list(groups),
    }


# --- the triage queue -----------------------------------------------------------------------


def triage_queue(*, area: Area | None, now: datetime, limit: int = QUEUE_SIZE):
    """Unassigned cases (filed or accepted), the nearest assignment deadline first."""
    qs = Case.objects.filter(scope_q(area), QUEUED)
    return (
        annotate_sla(qs, now)
        .select_related("category", "category__parent", "area", "handling_area")
        .order_by("assign_due_at", "filed_at", "pk")[:limit]
    )


def queue_case(*, user, pk: int, now: datetime) -> Case | None:
    """One case as a queue row, if the user may see it (None otherwise)."""
    from .selectors import case_list

    visible = case_list(user=user).filter(pk=pk).values("pk")
    qs = annotate_sla(Case.objects.filter(pk__in=visible), now)
    return qs.select_related("category", "category__parent", "area", "handling_area").first()


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

REASON_KEYS = ("not_assigned", "not_handled", "past_close")


def area_label(area: Area | None) -> str:
    return area.name if area is not None else str(_("All districts"))

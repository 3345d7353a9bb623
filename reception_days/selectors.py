"""Every read of reception days that is more than a `get`: scope, lists, the session page,
the community's public notice and the report card."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Prefetch, Q, Sum
from django.db.models.functions import Substr
from django.utils import timezone

from disputes.models import CaseStatus, CloseKind
from grids.models import Area, AreaLevel
from grids.selectors import user_scope

from .models import ReceptionSession, SessionKind, SessionStaff, SessionStatus, Visit

# The levels a report card can be drawn for, and which level its rows break down into.
REPORT_LEVELS = (AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY)
ROW_LEVEL = {AreaLevel.DISTRICT: AreaLevel.STREET, AreaLevel.STREET: AreaLevel.COMMUNITY}


def _with_list_columns(qs):
    return qs.select_related("community", "unit").annotate(
        visit_count=Count("visits", distinct=True)
    )


def session_list(*, user, filters: dict | None = None):
    qs = ReceptionSession.objects.visible_to(user)
    f = filters or {}
    if f.get("community"):
        qs = qs.filter(community=f["community"])
    for key in ("kind", "status"):
        if f.get(key):
            qs = qs.filter(**{key: f[key]})
    if f.get("date_from"):
        qs = qs.filter(date__gte=f["date_from"])
    if f.get("date_to"):
        qs = qs.filter(date__lte=f["date_to"])
    return _with_list_columns(qs).order_by("-date", "-starts_at", "-id")


def my_sessions(*, user, today: date | None = None) -> dict:
    """The sessions I am scheduled at: upcoming ones first, then the last few past ones
    (a session still "planned" there has not been marked held yet)."""
    today = today or timezone.localdate()
    mine = _with_list_columns(ReceptionSession.objects.filter(staff__user=user))
    return {
        "upcoming": list(mine.filter(date__gte=today).order_by("date", "starts_at", "id")[:30]),
        "recent": list(mine.filter(date__lt=today).order_by("-date", "-starts_at", "-id")[:10]),
    }


def session_detail(*, user, pk: int) -> ReceptionSession:
    """Raises ReceptionSession.DoesNotExist (→ 404) outside the user's scope."""
    return (
        ReceptionSession.objects.visible_to(user)
        .select_related("community", "unit", "held_by", "cancelled_by")
        .prefetch_related(
            Prefetch("staff", queryset=SessionStaff.objects.select_related("user")),
            Prefetch(
                "visits",
                queryset=Visit.objects.select_related(
                    "department", "case", "recorded_by", "replied_by"
                ).prefetch_related("services"),
            ),
        )
        .get(pk=pk)
    )


def visit_for_update(*, session: ReceptionSession, pk: int) -> Visit:
    return (
        Visit.objects.select_related("department", "case", "recorded_by", "replied_by")
        .prefetch_related("services")
        .get(session=session, pk=pk)
    )


def public_sessions(*, community: Area, today: date | None = None, limit: int = 6) -> dict:
    """For the notice posted in the community's compounds: the next monthly and thematic
    sessions, and the coming week of daily duty at its mediation units (which would crowd
    out everything else if listed with them)."""
    today = today or timezone.localdate()
    planned = (
        ReceptionSession.objects.filter(
            community=community, status=SessionStatus.PLANNED, date__gte=today
        )
        .select_related("unit")
        .prefetch_related(Prefetch("staff", queryset=SessionStaff.objects.order_by("id")))
        .order_by("date", "starts_at", "id")
    )
    return {
        "sessions": list(planned.exclude(kind=SessionKind.DUTY)[:limit]),
        "duty": list(
            planned.filter(kind=SessionKind.DUTY, date__lt=today + timedelta(days=7))[:20]
        ),
    }


def community_by_code(code: str) -> Area | None:
    return Area.objects.filter(code=code, level=AreaLevel.COMMUNITY).first()


def report_areas(*, user):
    """Areas the user may draw a report card for."""
    return Area.objects.visible_to(user).filter(level__in=REPORT_LEVELS)


def default_report_area(user) -> Area | None:
    """The highest area the user works at, or the first district for those who see all."""
    scope = user_scope(user)
    if scope.sees_everything:
        return Area.objects.filter(level__in=REPORT_LEVELS).order_by("depth", "path").first()
    areas = [a.area for a in scope.assignments if a.area_id and a.area.level in REPORT_LEVELS]
    return min(areas, key=lambda a: (a.depth, a.path), default=None)


# --- the report card -------------------------------------------------------------------------


def percent(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 2) if whole else None


@dataclass
class CardRow:
    area: Area | None
    sessions_held: int = 0
    attendances: int = 0
    residents_received: int = 0
    issues_raised: int = 0
    disputes_screened: int = 0
    converted: int = 0
    resolved: int = 0
    closed: int = 0

    @property
    def resolution_rate(self) -> float | None:
        return percent(self.resolved, self.converted)

    @property
    def closing_rate(self) -> float | None:
        return percent(self.closed, self.converted)

    def add(self, other: "CardRow"):
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


COUNTS = (
    "sessions_held",
    "attendances",
    "residents_received",
    "issues_raised",
    "disputes_screened",
    "converted",
    "resolved",
    "closed",
)


@dataclass
class ReportCard:
    area: Area
    date_from: date
    date_to: date
    total: CardRow
    rows: list[CardRow] = field(default_factory=list)


def _grouped(qs, path_field: str, length: int, **aggregates) -> dict[str, dict]:
    rows = (
        qs.annotate(prefix=Substr(path_field, 1, length))
        .values("prefix")
        .annotate(**aggregates)
        .order_by()
    )
    return {row.pop("prefix"): row for row in rows}


def report_card(*, area: Area, date_from: date, date_to: date) -> ReportCard:
    """Sessions held, officer attendances, residents received, issues raised, disputes
    screened and converted into cases in the area and period (by session date), and how
    those cases stand now: resolved (resolved, or closed substantively) and closed.

    Four queries whatever the size of the area: each figure is grouped by the row's path
    prefix in the database, and the total is the sum of the rows."""
    row_level = ROW_LEVEL.get(area.level)
    length = len(area.path) + (Area.steplen if row_level else 0)
    in_area = {
        "community__path__startswith": area.path,
        "date__gte": date_from,
        "date__lte": date_to,
    }
    session_q = {f"session__{k}": v for k, v in in_area.items()}
    held = _grouped(
        ReceptionSession.objects.filter(status=SessionStatus.HELD, **in_area),
        "community__path",
        length,
        n=Count("id"),
    )
    attended = _grouped(
        SessionStaff.objects.filter(attended=True, session__status=SessionStatus.HELD, **session_q),
        "session__community__path",
        length,
        n=Count("id"),
    )
    resolved_q = Q(case__status=CaseStatus.RESOLVED) | Q(
        case__status=CaseStatus.CLOSED, case__close_kind=CloseKind.SUBSTANTIVE
    )
    visits = _grouped(
        Visit.objects.filter(**session_q).exclude(session__status=SessionStatus.CANCELLED),
        "session__community__path",
        length,
        residents=Sum("people"),
        issues=Count("id"),
        disputes=Count("id", filter=Q(is_dispute=True)),
        converted=Count("case", distinct=True),
        resolved=Count("case", filter=resolved_q, distinct=True),
        closed=Count("case", filter=Q(case__status=CaseStatus.CLOSED), distinct=True),
    )

    def row_for(prefix: str, row_area: Area | None) -> CardRow:
        v = visits.get(prefix, {})
        return CardRow(
            area=row_area,
            sessions_held=held.get(prefix, {}).get("n", 0),
            attendances=attended.get(prefix, {}).get("n", 0),
            residents_received=v.get("residents") or 0,
            issues_raised=v.get("issues", 0),
            disputes_screened=v.get("disputes", 0),
            converted=v.get("converted", 0),
            resolved=v.get("resolved", 0),
            closed=v.get("closed", 0),
        )

    if row_level is None:
        total = row_for(area.path, area)
        return ReportCard(area=area, date_from=date_from, date_to=date_to, total=total)
    children = list(Area.objects.filter(parent=area, level=row_level).order_by("path"))
    rows = [row_for(child.path, child) for child in children]
    total = CardRow(area=area)
    for prefix in held.keys() | attended.keys() | visits.keys():
        # Every prefix, not only the listed children, so nothing in the area is left out.
        total.add(row_for(prefix, None))
    return ReportCard(area=area, date_from=date_from, date_to=date_to, total=total, rows=rows)

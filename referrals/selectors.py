"""Reads of linkage referrals, each through the case scope (Referral.objects.visible_to)."""

from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from common.prepared import Prepared
from disputes.models import LEVEL_COLUMN
from grids.models import Area

from .models import Direction, LinkageKind, Referral

LIST_RELATED = ("case", "created_by", "result_by")


def referral_list(*, user, filters: dict | None = None):
    filters = filters or {}
    qs = Referral.objects.visible_to(user).select_related(*LIST_RELATED)
    for field in ("kind", "direction", "status", "case"):
        if filters.get(field):
            qs = qs.filter(**{field: filters[field]})
    if filters.get("entrusted"):
        qs = qs.exclude(entrustment="")
    return qs.order_by("-started_at", "-pk")


def referral_detail(*, user, pk: int) -> Referral:
    """Raises Referral.DoesNotExist (→ 404) outside the user's scope."""
    return (
        Referral.objects.visible_to(user)
        .select_related(*LIST_RELATED, "case__handling_area", "case__mediator")
        .get(pk=pk)
    )


def case_referrals(case) -> list[Referral]:
    """For the case page, whose viewer was checked already."""
    return CASE_REFERRALS.rows(case.pk)


# On every case page: compiled once per connection (common.prepared).
CASE_REFERRALS = Prepared(
    lambda case_id: (
        Referral.objects.filter(case_id=case_id)
        .select_related("created_by", "result_by")
        .order_by("started_at", "pk")
    )
)


def period_bounds(start: date | datetime, end: date | datetime) -> tuple[datetime, datetime]:
    """Dates are whole local days, both included; datetimes are used as they are, [start, end)."""
    tz = timezone.get_current_timezone()
    if not isinstance(start, datetime):
        start = timezone.make_aware(datetime.combine(start, time.min), tz)
    if not isinstance(end, datetime):
        end = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz)
    return start, end


def _area_q(area: Area | None) -> Q:
    if area is None:
        return Q()
    return Q(**{f"case__{LEVEL_COLUMN[area.level]}": area.pk})


COUNTS = ("total", "pending", "finished")
ENTRUSTED = ("entrusted", "entrusted_pending", "entrusted_on_time", "entrusted_late")


def linkage_figures(area: Area | None, start: date | datetime, end: date | datetime) -> dict:
    """Referrals started in the period in the area's cases, by linkage kind and direction,
    with the court-entrusted mediations' limit kept or missed; one GROUP BY query. Every
    kind appears (zeros too) and the totals are the sum of the kinds, so the figures add up
    by construction. Dates are whole local days, both included (as the dashboard's)."""
    start, end = period_bounds(start, end)
    entrusted = ~Q(entrustment="")
    pending = Q(status=Referral.Status.PENDING)
    missed = Q(finished_on_time=False) | pending & Q(overdue_at__isnull=False)
    rows = (
        Referral.objects.filter(_area_q(area), started_at__gte=start, started_at__lt=end)
        .values("kind", "direction")
        .annotate(
            total=Count("pk"),
            pending=Count("pk", filter=pending),
            finished=Count("pk", filter=~pending),
            entrusted=Count("pk", filter=entrusted),
            entrusted_pending=Count("pk", filter=entrusted & pending & Q(overdue_at__isnull=True)),
            entrusted_on_time=Count("pk", filter=entrusted & Q(finished_on_time=True)),
            entrusted_late=Count("pk", filter=entrusted & missed),
        )
        .order_by()
    )
    found = {(r["kind"], r["direction"]): r for r in rows}
    kinds = []
    for kind, label in LinkageKind.choices:
        row = {"kind": kind, "label": str(label)}
        for direction in Direction.values:
            got = found.get((kind, direction), {})
            row[direction] = {key: got.get(key, 0) for key in COUNTS}
        row["total"] = row["in"]["total"] + row["out"]["total"]
        for key in ENTRUSTED:
            row[key] = sum(found.get((kind, d), {}).get(key, 0) for d in Direction.values)
        kinds.append(row)
    totals = {
        direction: {key: sum(r[direction][key] for r in kinds) for key in COUNTS}
        for direction in Direction.values
    }
    totals["total"] = sum(r["total"] for r in kinds)
    for key in ENTRUSTED:
        totals[key] = sum(r[key] for r in kinds)
    return {"kinds": kinds, "totals": totals}

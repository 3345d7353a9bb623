"""Every write of the monthly assessment: compute a month (always a new version) and publish
a version (after which it never changes)."""

import time
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.bulk import insert_rows
from common.errors import StateConflict
from grids.scope import user_scope

from .figures import window_for
from .models import AssessmentRow, AssessmentScheme, AssessmentSnapshot
from .scoring import Config, scorecards

ROW_COLUMNS = (
    "kind", "unit_id", "name", "place", "district_id", "street_id", "community_id", "volume",
    "band", "score", "rank", "ranked_among", "figures",
)  # fmt: skip


def may_manage(user) -> bool:
    """Computing and publishing the city's ranking is for administrators."""
    return user is not None and user_scope(user).sees_everything


def scheme_config(scheme: AssessmentScheme) -> Config:
    weights = {w.metric: w.weight for w in scheme.weights.all()}
    bands = [
        {"kind": b.kind, "label": b.label, "min": b.min_volume, "max": b.max_volume}
        for b in scheme.bands.order_by("kind", "min_volume", "pk")
    ]
    return Config(weights=weights, bands=bands)


def active_scheme() -> AssessmentScheme:
    scheme = AssessmentScheme.objects.filter(is_active=True).first()
    if scheme is None:
        raise ValidationError({"scheme": [_("No assessment scheme is active.")]})
    return scheme


def last_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def snapshot_compute(
    *, month: date, actor=None, reason: str = "", only_if_missing: bool = False
) -> AssessmentSnapshot:
    """Score every unit for `month` with the active scheme and store the result as the
    month's next version (a draft until published). `actor` None is the monthly task; with
    `only_if_missing` it leaves a month that already has a version alone, so a repeated beat
    tick computes nothing twice."""
    if actor is not None and not may_manage(actor):
        raise PermissionDenied
    month = month.replace(day=1)
    now = timezone.now()
    if month > last_month(timezone.localdate(now)):
        raise ValidationError({"month": [_("A month can be assessed once it is over.")]})
    if only_if_missing and AssessmentSnapshot.objects.filter(month=month).exists():
        return AssessmentSnapshot.objects.filter(month=month).order_by("-version").first()
    scheme = active_scheme()
    config = scheme_config(scheme)
    started = time.perf_counter()
    units = scorecards(window_for(month, now), config)
    seconds = time.perf_counter() - started
    for _attempt in range(3):
        try:
            snapshot, stored = _store(
                month, now, actor, reason, scheme, config, units, seconds, only_if_missing
            )
        except IntegrityError:
            continue  # another computation took this version number first: the next one
        if stored:
            _analyze()
        return snapshot
    raise StateConflict(_("The month is being computed by someone else; try again."))


@transaction.atomic
def _store(month, now, actor, reason, scheme, config, units, seconds, only_if_missing):
    """(snapshot, stored). Stores are taken one at a time (the scheme's row is the lock):
    the version number and the "already computed" check are read under it, so overlapping
    monthly tasks leave one version and concurrent recomputations number theirs in turn."""
    AssessmentScheme.objects.select_for_update().get(pk=scheme.pk)
    existing = AssessmentSnapshot.objects.filter(month=month).order_by("-version").first()
    if only_if_missing and existing is not None:
        return existing, False
    version = (existing.version if existing else 0) + 1
    snapshot = AssessmentSnapshot.objects.create(
        month=month,
        version=version,
        computed_at=timezone.now(),
        data_as_of=now,
        computed_by=actor,
        scheme_name=scheme.name,
        weights={metric: str(weight) for metric, weight in config.weights.items()},
        bands=config.bands,
        seconds=round(seconds, 3),
        row_count=len(units),
        reason=reason[:200],
    )
    # Thousands of rows: one INSERT from column arrays on PostgreSQL (common.bulk).
    insert_rows(
        AssessmentRow,
        ROW_COLUMNS,
        [
            (
                u.kind,
                u.unit_id,
                u.name[:150],
                u.place[:300],
                u.district_id,
                u.street_id,
                u.community_id,
                u.volume,
                u.band,
                u.score,
                u.rank,
                u.ranked_among,
                u.figures,
            )
            for u in units
        ],
        constants={"snapshot_id": snapshot.pk},
    )
    return snapshot, True


def _analyze() -> None:
    """Fresh statistics for the rows just written: thousands arrive at once, and until
    autovacuum gets to them the planner takes a new month's rows for none and reads the
    ranking's pages through the wrong index."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {AssessmentRow._meta.db_table}")


def snapshot_publish(*, snapshot: AssessmentSnapshot, actor) -> AssessmentSnapshot:
    """Publish a draft: from now on its figures are the month's official ranking and can
    no longer change (a recomputation becomes a new version). 409 if already published."""
    if not may_manage(actor):
        raise PermissionDenied
    now = timezone.now()
    with transaction.atomic():
        changed = AssessmentSnapshot.objects.filter(pk=snapshot.pk, published=False).update(
            published=True, published_at=now, published_by=actor
        )
    if not changed:
        raise StateConflict(_("This version is already published."))
    return AssessmentSnapshot.objects.get(pk=snapshot.pk)

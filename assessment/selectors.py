"""Reads of the ranking: who may see which units, which version of a month is shown, the
rows of one level of the drill-down with their figures, and their last six months. The
page, the API and the Excel file all read through `ranking`, so they cannot disagree."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _

from grids.models import Area, AreaLevel, Role
from grids.scope import user_scope
from grids.selectors import topmost_areas

from . import metrics
from .models import AssessmentRow, AssessmentSnapshot, UnitKind

K = UnitKind
# Who opens the ranking, for the area they are assigned to and everything below it.
ASSESSMENT_ROLES = frozenset(
    {Role.COMMUNITY_SECRETARY, Role.STREET_STAFF, Role.STREET_LEADER, Role.DISTRICT_STAFF}
)
# A draft (computed, not yet published) is seen by those who will publish or check it;
# departments are assessed by the district (a street sees its own areas only).
DRAFT_ROLES = frozenset({Role.DISTRICT_STAFF})
DEPARTMENT_ROLES = frozenset({Role.DISTRICT_STAFF})
TREND_MONTHS = 6
PAGE_SIZE = 100
MONTHS_LISTED = 36

# What a container (the area being drilled into) lists, the first being the default.
KINDS_UNDER = {
    None: (K.DISTRICT, K.STREET, K.COMMUNITY, K.PERSON, K.DEPARTMENT),
    AreaLevel.DISTRICT: (K.STREET, K.COMMUNITY, K.PERSON, K.DEPARTMENT),
    AreaLevel.STREET: (K.COMMUNITY, K.PERSON),
    AreaLevel.COMMUNITY: (K.PERSON,),
    # A grid directly under a street is scored as a community.
    AreaLevel.GRID: (K.PERSON,),
    AreaLevel.DEDICATED: (K.PERSON,),
}
CONTAINER_KIND = {
    AreaLevel.DISTRICT: K.DISTRICT,
    AreaLevel.STREET: K.STREET,
    AreaLevel.COMMUNITY: K.COMMUNITY,
    AreaLevel.GRID: K.COMMUNITY,
    AreaLevel.DEDICATED: K.COMMUNITY,
}
COLUMN = {K.DISTRICT: "district_id", K.STREET: "street_id", K.COMMUNITY: "community_id"}
# Where a row's name leads: the next level down.
DRILL_KIND = {K.DISTRICT: K.STREET, K.STREET: K.COMMUNITY, K.COMMUNITY: K.PERSON}


# --- who sees what ------------------------------------------------------------------------------


def roots(user) -> list[Area] | None:
    """The areas whose ranking the user may open (and everything below); None: all.
    PermissionDenied for anyone else."""
    found = topmost_areas(user, ASSESSMENT_ROLES)
    if found is None:
        return None
    if not found:
        raise PermissionDenied(_("The ranking is for community, street and district staff."))
    return found


def may_see_drafts(user) -> bool:
    scope = user_scope(user)
    return scope.sees_everything or bool(scope.roles & DRAFT_ROLES)


def visible_snapshots(user) -> list[AssessmentSnapshot]:
    """The versions the user may open, newest month first. One query."""
    qs = AssessmentSnapshot.objects.order_by("-month", "-version")
    if not may_see_drafts(user):
        qs = qs.filter(published=True)
    return list(qs[: MONTHS_LISTED * 3])


def shown_version(snapshots: list, month: date) -> AssessmentSnapshot | None:
    """The month's newest published version, else (for those who see drafts) its newest
    draft."""
    of_month = [s for s in snapshots if s.month == month]
    published = [s for s in of_month if s.published]
    return max(published or of_month, key=lambda s: s.version, default=None)


def container_allowed(user, area: Area | None) -> bool:
    found = roots(user)
    if found is None:
        return True
    if area is None:
        return False
    return any(area.path.startswith(root.path) for root in found)


def default_container(user) -> Area | None:
    found = roots(user)
    return None if found is None else found[0]


def kinds_under(user, area: Area | None) -> tuple[str, ...]:
    kinds = KINDS_UNDER.get(area.level if area else None, ())
    scope = user_scope(user)
    if K.DEPARTMENT in kinds and not (scope.sees_everything or scope.roles & DEPARTMENT_ROLES):
        kinds = tuple(k for k in kinds if k != K.DEPARTMENT)
    return kinds


# --- the rows ------------------------------------------------------------------------------------


class _Light(NamedTuple):
    pk: int
    kind: str
    unit_id: int
    band: str
    rank: int | None
    name: str


@dataclass
class Ranking:
    snapshot: AssessmentSnapshot
    kind: str
    container: Area | None
    parent: AssessmentRow | None  # the container's own scorecard
    rows: list[AssessmentRow]
    metrics: list = field(default_factory=list)
    trend_months: list[date] = field(default_factory=list)
    total: int = 0  # rows before a page was cut
    page: int = 1
    pages: int = 1


def _band_order(snapshot: AssessmentSnapshot, kind: str) -> dict[str, int]:
    labels = [b["label"] for b in snapshot.bands if b["kind"] == kind]
    return {label: index for index, label in enumerate(labels)}


def _sorted(rows: list[AssessmentRow], snapshot: AssessmentSnapshot, kind: str) -> list:
    order = _band_order(snapshot, kind)
    return sorted(
        rows,
        key=lambda r: (
            order.get(r.band, len(order)),
            r.rank is None,
            r.rank or 0,
            r.name,
            r.unit_id,
        ),
    )


def _scope_q(kind: str, container: Area | None) -> Q:
    q = Q(kind=kind)
    if container is not None:
        q &= Q(**{COLUMN[CONTAINER_KIND[container.level]]: container.pk})
    return q


def ranking(
    *,
    snapshot: AssessmentSnapshot,
    kind: str,
    container: Area | None,
    snapshots=(),
    page: int | None = None,
) -> Ranking:
    """The scorecards of one kind of unit in the container, in rank order within each
    volume band, with the container's own scorecard; with `snapshots` (the visible
    versions), each row's score in the last six months; with `page`, PAGE_SIZE rows of
    them (a district lists hundreds of communities). Three queries: what sorting needs of
    every row, the page's whole rows, their trend."""
    parent_q = Q(pk__in=[])
    parent_key = None
    if container is not None:
        parent_key = (CONTAINER_KIND[container.level], container.pk)
        parent_q = Q(kind=parent_key[0], unit_id=container.pk)
    wanted = Q(snapshot=snapshot) & (_scope_q(kind, container) | parent_q)
    # What sorting needs first, for every row; the whole rows (figures) only for the page.
    light = [
        _Light(*values)
        for values in AssessmentRow.objects.filter(wanted)
        .order_by()
        .values_list("pk", "kind", "unit_id", "band", "rank", "name")
    ]
    parent_pk = None
    rows = []
    for row in light:
        if parent_key is not None and (row.kind, row.unit_id) == parent_key and row.kind != kind:
            parent_pk = row.pk
        else:
            rows.append(row)
    rows = _sorted(rows, snapshot, kind)
    total = len(rows)
    pages = max(1, -(-total // PAGE_SIZE))
    if page is not None:
        page = min(max(page, 1), pages)
        rows = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    wanted_pks = [r.pk for r in rows] + ([parent_pk] if parent_pk else [])
    full = AssessmentRow.objects.order_by().in_bulk(wanted_pks) if wanted_pks else {}
    result = Ranking(
        snapshot=snapshot,
        kind=kind,
        container=container,
        parent=full.get(parent_pk),
        rows=[full[r.pk] for r in rows],
        metrics=metrics.for_kind(kind),
        total=total,
        page=page or 1,
        pages=pages if page is not None else 1,
    )
    if snapshots:
        _attach_trend(result, snapshots)
    return result


def trend_months(month: date) -> list[date]:
    """The month and the five before it, oldest first."""
    months = [month]
    for _index in range(TREND_MONTHS - 1):
        months.append((months[-1] - timedelta(days=1)).replace(day=1))
    return list(reversed(months))


def _trend_key(kind: str, unit_id: int, community_id: int | None) -> tuple:
    # A person is scored once per community; an area is its own unit.
    return (kind, unit_id, community_id if kind == K.PERSON else None)


def _attach_trend(result: Ranking, snapshots) -> None:
    """Each row's (and the parent's) score in the last six months, oldest first; None where
    the month has no version or the unit no score. One query."""
    result.trend_months = trend_months(result.snapshot.month)
    chosen = [
        result.snapshot if m == result.snapshot.month else shown_version(snapshots, m)
        for m in result.trend_months
    ]
    wanted = [*result.rows, *([result.parent] if result.parent else [])]
    scores: dict[tuple, dict[int, object]] = {
        _trend_key(r.kind, r.unit_id, r.community_id): {} for r in wanted
    }
    ids = [s.pk for s in chosen if s is not None]
    if ids and wanted:
        history = (
            AssessmentRow.objects.filter(
                snapshot_id__in=ids,
                kind__in={r.kind for r in wanted},
                unit_id__in={r.unit_id for r in wanted},
            )
            .order_by()
            .values_list("snapshot_id", "kind", "unit_id", "community_id", "score")
        )
        for snapshot_id, kind, unit_id, community_id, score in history:
            found = scores.get(_trend_key(kind, unit_id, community_id))
            if found is not None:
                found[snapshot_id] = score
    for row in wanted:
        found = scores[_trend_key(row.kind, row.unit_id, row.community_id)]
        row.trend = [found.get(s.pk) if s is not None else None for s in chosen]

from django.db.models import Count, Q

from .models import Area
from .scope import Scope, user_scope  # noqa: F401  (the scope is read through selectors)


def topmost_areas(user, roles) -> list[Area] | None:
    """The highest areas where the user holds one of `roles` (an area below another of them
    is covered by it), by path; None when the user sees everything. Pages that show "my
    area and everything below" (dashboard, ranking) start from these."""
    scope = user_scope(user)
    if scope.sees_everything:
        return None
    areas = sorted(
        (a.area for a in scope.assignments if a.area_id and a.role in roles),
        key=lambda area: area.path,
    )
    found: list[Area] = []
    for area in areas:
        if not any(area.path.startswith(root.path) for root in found):
            found.append(area)
    return found


def area_with_ancestors(areas: list[Area]) -> dict[str, Area]:
    """All ancestors of the given areas, keyed by path, in one query."""
    paths = {p for area in areas for p in area.ancestor_paths()}
    if not paths:
        return {}
    return {a.path: a for a in Area.objects.filter(path__in=paths).only("path", "name", "level")}


def area_breadcrumbs(areas: list[Area]) -> dict[int, str]:
    """ "某区 / 某街道 / 某社区" for each area, for lists that must not run N+1 queries."""
    ancestors = area_with_ancestors(areas)
    crumbs = {}
    for area in areas:
        names = [ancestors[p].name for p in area.ancestor_paths() if p in ancestors]
        crumbs[area.pk] = " / ".join([*names, area.name])
    return crumbs


def area_search(*, user, text: str = "", levels=None, limit: int = 20):
    qs = Area.objects.visible_to(user)
    if levels:
        qs = qs.filter(level__in=levels)
    if text:
        qs = qs.filter(Q(name__icontains=text) | Q(code__istartswith=text))
    return qs[:limit]


def area_counts_by_level(*, user) -> dict[str, int]:
    rows = Area.objects.visible_to(user).values("level").annotate(n=Count("id")).order_by()
    return {row["level"]: row["n"] for row in rows}

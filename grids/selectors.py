from dataclasses import dataclass, field

from django.db.models import Count, Q

from .models import Area, Assignment, AssignmentQuerySet, Role, User


@dataclass(frozen=True)
class Scope:
    """What a user's active assignments entitle them to see."""

    sees_everything: bool = False
    roles: frozenset[str] = frozenset()
    # Minimal set of subtree roots: a path already covered by a shorter one is dropped.
    area_paths: tuple[str, ...] = ()
    area_ids: tuple[int, ...] = ()
    department_ids: tuple[int, ...] = ()
    assignments: tuple = field(default=(), compare=False)


def _minimal_paths(paths: list[str]) -> tuple[str, ...]:
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not kept or not path.startswith(kept[-1]):
            kept.append(path)
    return tuple(kept)


def user_scope(user) -> Scope:
    """Computed once per request (cached on the user object): one query."""
    if not getattr(user, "is_authenticated", False):
        return Scope()
    cached = getattr(user, "_grid_scope", None)
    if cached is not None:
        return cached
    assignments = tuple(
        Assignment.objects.active().filter(user=user).select_related("area", "department")
    )
    roles = frozenset(a.role for a in assignments)
    sees_everything = user.is_superuser or any(
        a.role == Role.ADMIN and a.area_id is None for a in assignments
    )
    scope = Scope(
        sees_everything=sees_everything,
        roles=roles,
        area_paths=_minimal_paths([a.area.path for a in assignments if a.area_id]),
        area_ids=tuple(a.area_id for a in assignments if a.area_id),
        department_ids=tuple(a.department_id for a in assignments if a.department_id),
        assignments=assignments,
    )
    user._grid_scope = scope
    return scope


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


def staff_in_area(*, area: Area, roles, at=None) -> AssignmentQuerySet:
    return (
        Assignment.objects.active(at)
        .filter(area=area, role__in=roles)
        .select_related("user")
        .order_by("role", "user__real_name")
    )


def area_counts_by_level(*, user) -> dict[str, int]:
    rows = Area.objects.visible_to(user).values("level").annotate(n=Count("id")).order_by()
    return {row["level"]: row["n"] for row in rows}


def user_by_username(username: str) -> User | None:
    return User.objects.filter(username=username).first()

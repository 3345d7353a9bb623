"""What a user may see, from their active assignments: one query per request.

Below the models (it reads assignments through the user), so querysets can scope by it."""

from dataclasses import dataclass, field

from django.utils import timezone

from .roles import Role


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
    # (Assignment.HELD, reached through the user: the models import this module.)
    assignments = tuple(user.assignments.model.HELD.rows(user.pk, timezone.now()))
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

"""Who may do what to a case. Pure functions over the user's scope (one cached query) and
the case row, so the pages, the API and the tests ask the same questions."""

from grids.models import Area, AreaLevel, Role
from grids.selectors import user_scope

from .models import Case, Channel, HandlingLevel

# Roles that run a queue at their level: accept, send back, assign, reopen, refer, close.
MANAGER_ROLES = {
    Role.COMMUNITY_SECRETARY,
    Role.MEDIATOR,
    Role.STREET_STAFF,
    Role.STREET_LEADER,
    Role.DISTRICT_STAFF,
    Role.ADMIN,
}
FILER_ROLES = {
    Role.GRID_WORKER,
    Role.MICRO_GRID_HEAD,
    Role.MEDIATOR,
    Role.COMMUNITY_SECRETARY,
    Role.STREET_STAFF,
    Role.STREET_LEADER,
    Role.DISTRICT_STAFF,
    Role.ADMIN,
}
# Roles whose holders may be picked as a case's mediator.
MEDIATOR_ROLES = {
    Role.MEDIATOR,
    Role.COMMUNITY_SECRETARY,
    Role.GRID_WORKER,
    Role.STREET_STAFF,
    Role.DISTRICT_STAFF,
    Role.LAWYER,
    Role.JUDGE,
    Role.POLICE,
}


def _manages_path(user, path: str) -> bool:
    scope = user_scope(user)
    if scope.sees_everything:
        return True
    return any(
        a.area_id and a.role in MANAGER_ROLES and path.startswith(a.area.path)
        for a in scope.assignments
    )


def is_manager(user, case: Case) -> bool:
    """Staff of the handling area or any level above it. A grid-level case is run by its
    grid worker, so grid workers manage cases whose queue is their own grid."""
    if _manages_path(user, case.handling_area.path):
        return True
    if case.handling_level == HandlingLevel.GRID:
        scope = user_scope(user)
        return any(
            a.area_id == case.handling_area_id and a.role == Role.GRID_WORKER
            for a in scope.assignments
        )
    return False


def staff_of(user, area_id: int) -> bool:
    """Runs the queue at exactly this area (not a level above it)."""
    return any(
        a.area_id == area_id and (a.role in MANAGER_ROLES or a.role == Role.GRID_WORKER)
        for a in user_scope(user).assignments
    )


def is_handler(user, case: Case) -> bool:
    return case.mediator_id == user.pk or any(u.pk == user.pk for u in case.assistants.all())


def sees_party_details(user, case: Case) -> bool:
    """Phone and ID numbers: the handler, the filer and whoever runs the case's queue (the
    handling area and the levels above it; for a grid-level case, that grid's worker)."""
    return (
        case.filed_by_id == user.pk
        or case.mediator_id == user.pk
        or is_handler(user, case)
        or is_manager(user, case)
    )


# The three officers and a lawyer do not keep the grid's ledger, but an issue a resident
# raises with them at a reception day is filed by them (they "take the order", 接单).
RECEPTION_DAY_FILER_ROLES = {Role.JUDGE, Role.PROSECUTOR, Role.POLICE, Role.LAWYER}


def can_file(user, channel: str | None = None) -> bool:
    scope = user_scope(user)
    if scope.sees_everything or scope.roles & FILER_ROLES:
        return True
    return channel == Channel.RECEPTION_DAY and bool(scope.roles & RECEPTION_DAY_FILER_ROLES)


FILING_LEVELS = (AreaLevel.GRID, AreaLevel.DEDICATED, AreaLevel.MICRO_GRID)


def filing_areas_q(user):
    """Where the user may file: their own subtree, down to grid and micro-grid level."""

    return Area.objects.visible_to(user).filter(level__in=FILING_LEVELS)


def may_file_in(user, area: Area) -> bool:
    """Whether filing_areas_q(user) holds `area`, decided from the user's scope and the
    area's path and level, as Area.objects.visible_to does in SQL: a filing checked it with
    a query of its own, after the form or the API had just loaded the area."""
    if area.level not in FILING_LEVELS:
        return False
    scope = user_scope(user)
    return scope.sees_everything or any(area.path.startswith(p) for p in scope.area_paths)


def pending_extension(case: Case):
    """The case's undecided extension request, from the prefetched list when there is one
    (the case page prefetches it)."""
    return next((e for e in case.extensions.all() if e.status == "pending"), None)


def approves_extensions(user, case: Case) -> bool:
    """The level above the handling area decides (a street for a community case …)."""
    scope = user_scope(user)
    if scope.sees_everything:
        return True
    path = case.handling_area.path
    return any(
        a.area_id
        and a.role in MANAGER_ROLES
        and a.role != "mediator"
        and path.startswith(a.area.path)
        and len(a.area.path) < len(path)
        for a in scope.assignments
    )


def liaison_departments(user) -> tuple[int, ...]:
    """The departments the user is liaison (联络员) for now, from the cached scope."""
    scope = user_scope(user)
    return tuple(
        a.department_id
        for a in scope.assignments
        if a.department_id and a.role == Role.DEPARTMENT_LIAISON
    )

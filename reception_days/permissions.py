"""Who may do what at a reception day. Pure functions over the user's scope (one cached
query) and the session's staff, so pages, services and tests ask the same questions."""

from grids.models import THREE_OFFICERS_AND_A_LAWYER, Area, Role
from grids.selectors import user_scope

from .models import ReceptionSession

OFFICER_ROLES = frozenset(THREE_OFFICERS_AND_A_LAWYER)
# Community staff and the levels above them organise the sessions and may record at any
# session in their area, whether or not they are on its staff list.
ORGANISER_ROLES = frozenset(
    {
        Role.COMMUNITY_SECRETARY,
        Role.MEDIATOR,
        Role.STREET_STAFF,
        Role.STREET_LEADER,
        Role.DISTRICT_STAFF,
        Role.ADMIN,
    }
)


def organises(user, community: Area) -> bool:
    scope = user_scope(user)
    if scope.sees_everything:
        return True
    return any(
        a.area_id and a.role in ORGANISER_ROLES and community.path.startswith(a.area.path)
        for a in scope.assignments
    )


def is_scheduled(user, session: ReceptionSession) -> bool:
    """Uses the prefetched staff list when there is one (the session page has it)."""
    return any(s.user_id == user.pk for s in session.staff.all())


def can_record(user, session: ReceptionSession) -> bool:
    """Record visits, convert them, reply, mark attendance, hold or cancel the session."""
    return is_scheduled(user, session) or organises(user, session.community)


def can_organise_somewhere(user) -> bool:
    scope = user_scope(user)
    return scope.sees_everything or bool(scope.roles & ORGANISER_ROLES)

"""Who may do what with resident reports, ratings and callbacks. Built on the same scope and
case permissions as the staff pages (disputes.permissions)."""

from disputes import permissions as case_permissions
from disputes.models import Case, Channel
from grids.models import Area, Role
from grids.selectors import user_scope

# Street centre staff make the callbacks; the district above them and admins may too.
CALLBACK_ROLES = {Role.STREET_STAFF, Role.STREET_LEADER, Role.DISTRICT_STAFF, Role.ADMIN}


def is_resident_case(case: Case) -> bool:
    return case.channel == Channel.RESIDENT_QR


def can_publish(user, case: Case) -> bool:
    """Whoever may post progress on the case may show a note to the resident."""
    return is_resident_case(case) and (
        case_permissions.is_handler(user, case) or case_permissions.is_manager(user, case)
    )


def supervises(user, case: Case) -> bool:
    """The handler's supervisor: runs the case's queue (or a level above it) and is not the
    handler being complained about."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user_scope(user).sees_everything:
        return True
    return user.pk != case.mediator_id and case_permissions.is_manager(user, case)


def does_callbacks(user, street: Area) -> bool:
    scope = user_scope(user)
    if scope.sees_everything:
        return True
    return any(
        a.area_id and a.role in CALLBACK_ROLES and street.path.startswith(a.area.path)
        for a in scope.assignments
    )


def callback_paths(user) -> tuple[str, ...] | None:
    """Subtrees whose callbacks the user makes; None means everywhere."""
    scope = user_scope(user)
    if scope.sees_everything:
        return None
    return tuple(a.area.path for a in scope.assignments if a.area_id and a.role in CALLBACK_ROLES)

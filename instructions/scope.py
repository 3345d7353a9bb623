"""Who may send instructions, where to, and whose progress they may follow.

A community secretary sends to their community, street centre staff to their street, district
staff to their district; someone who sees the whole system may send anywhere, or to every
area at once. Read from the user's active assignments (grids.scope.user_scope, cached per
request), so asking costs at most the one query the scope costs anyway."""

from django.db.models import Q

from grids.models import Area, Role
from grids.selectors import user_scope

SENDER_ROLES = frozenset(
    {
        Role.COMMUNITY_SECRETARY,
        Role.STREET_STAFF,
        Role.STREET_LEADER,
        Role.DISTRICT_STAFF,
        Role.ADMIN,
    }
)
# Who an instruction can go to: every role held at an area (a department's liaison is not).
RECIPIENT_ROLES = (
    Role.GRID_WORKER,
    Role.MICRO_GRID_HEAD,
    Role.MEDIATOR,
    Role.COMMUNITY_SECRETARY,
    Role.STREET_STAFF,
    Role.STREET_LEADER,
    Role.DISTRICT_STAFF,
    Role.JUDGE,
    Role.PROSECUTOR,
    Role.POLICE,
    Role.LAWYER,
)


def sends_everywhere(user) -> bool:
    return user_scope(user).sees_everything


def sending_paths(user) -> tuple[str, ...]:
    """The roots of the subtrees the user may send to (empty for someone who sends
    everywhere: ask sends_everywhere first)."""
    scope = user_scope(user)
    paths = sorted({a.area.path for a in scope.assignments if a.area_id and a.role in SENDER_ROLES})
    kept: list[str] = []
    for path in paths:
        if not kept or not path.startswith(kept[-1]):
            kept.append(path)
    return tuple(kept)


def may_send(user) -> bool:
    return sends_everywhere(user) or bool(sending_paths(user))


def may_send_to(user, area: Area | None) -> bool:
    if sends_everywhere(user):
        return True
    if area is None:
        return False
    return any(area.path.startswith(path) for path in sending_paths(user))


def areas_to_send_to(user):
    """The areas offered in the picker: the user's own areas and two levels below them
    (a district's streets and communities, a street's communities and grids, a community's
    grids and micro-grids), in tree order."""
    if sends_everywhere(user):
        return Area.objects.filter(depth__lte=3)
    paths = sending_paths(user)
    if not paths:
        return Area.objects.none()
    condition = Q()
    for path in paths:
        condition |= Q(path__startswith=path, depth__lte=len(path) // Area.steplen + 2)
    return Area.objects.filter(condition)


def followed_condition(user) -> Q | None:
    """Instructions whose progress the user may follow: their own, and those sent to an
    area they could send to themselves. None: all of them."""
    if sends_everywhere(user):
        return None
    condition = Q(sender=user)
    for path in sending_paths(user):
        condition |= Q(area__path__startswith=path)
    return condition

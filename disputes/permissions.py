"""Who may do what to a case. Pure functions over the user's scope (one cached query) and
the case row, so the pages, the API and the tests ask the same questions."""

from grids.models import Area, AreaLevel, Role
from grids.selectors import user_scope

from .models import OPEN_STATUSES, Case, Channel, HandlingLevel, RiskLevel
from .models import CaseStatus as S
from .routing import ESCALATABLE, parent_queue

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
MEDIATOR_ROLES = {Role.MEDIATOR, Role.COMMUNITY_SECRETARY, Role.GRID_WORKER, Role.STREET_STAFF,
                  Role.DISTRICT_STAFF, Role.LAWYER, Role.JUDGE, Role.POLICE}  # fmt: skip


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


def filing_areas_q(user):
    """Where the user may file: their own subtree, down to grid and micro-grid level."""

    return Area.objects.visible_to(user).filter(
        level__in=[AreaLevel.GRID, AreaLevel.DEDICATED, AreaLevel.MICRO_GRID]
    )


def available_actions(user, case: Case) -> list[str]:
    """The actions this viewer may take on this case now; mirrors the checks in services so
    the page offers exactly what would succeed."""

    manager = is_manager(user, case)
    mediator = case.mediator_id == user.pk
    handler = mediator or is_handler(user, case)
    filer = case.filed_by_id == user.pk
    status = case.status
    checks = {
        "accept": manager and status == S.FILED,
        "assign": manager and status in (S.FILED, S.ACCEPTED),
        "send_back": manager and status in (S.FILED, S.ACCEPTED),
        "resubmit": (filer or manager) and status == S.SENT_BACK,
        "progress": (handler or manager) and status in (S.ASSIGNED, S.IN_MEDIATION),
        "outcome": (mediator or manager) and status == S.IN_MEDIATION,
        "resolve": (mediator or manager) and status == S.IN_MEDIATION,
        "close": (mediator or manager)
        and (status in (S.RESOLVED, S.REFERRED) or (status == S.IN_MEDIATION and case.outcome)),
        "reopen": manager and status in (S.RESOLVED, S.CLOSED),
        "refer": (mediator or manager) and status in OPEN_STATUSES,
        "withdraw": status in OPEN_STATUSES
        and (manager or (filer and status in (S.FILED, S.SENT_BACK))),
        "attach": filer or handler or manager,
    }
    checks |= _sla_checks(user, case, manager=manager, mediator=mediator)
    return [name for name, allowed in checks.items() if allowed]


def pending_extension(case: Case):
    """The case's undecided extension request, from the prefetched list when there is one
    (the case page prefetches it)."""
    return next((e for e in case.extensions.all() if e.status == "pending"), None)


def _sla_checks(user, case: Case, *, manager: bool, mediator: bool) -> dict[str, bool]:
    """Escalation, risk, dispatch, extensions and the clock: the same conditions as the
    services (case_escalate … case_resume_clock), cheapest first."""

    status = case.status
    runs_it = manager or mediator
    movable = runs_it and status in ESCALATABLE
    # Whoever approves extensions manages the case too, so nobody else needs the lookup.
    pending = pending_extension(case) if runs_it else None
    policy = case.sla_policy if case.sla_policy_id else None
    return {
        # One query (the area's ancestors), asked only when everything else allows it.
        "escalate": movable and parent_queue(case)[1] is not None,
        "raise_risk": movable and case.risk_level != RiskLevel.SERIOUS,
        "dispatch": manager and status in ESCALATABLE,
        "request_extension": runs_it and status in OPEN_STATUSES and pending is None,
        "decide_extension": pending is not None and approves_extensions(user, case),
        "pause_clock": runs_it
        and status == S.IN_MEDIATION
        and case.clock_paused_at is None
        and bool(policy and policy.pause_for_judicial_review),
        "resume_clock": runs_it and case.clock_paused_at is not None,
    }


def approves_extensions(user, case: Case) -> bool:
    """The level above the handling area decides (a street for a community case …)."""
    scope = user_scope(user)
    if scope.sees_everything:
        return True
    path = case.handling_area.path
    return any(
        a.area_id and a.role in MANAGER_ROLES and a.role != "mediator"
        and path.startswith(a.area.path) and len(a.area.path) < len(path)
        for a in scope.assignments
    )  # fmt: skip

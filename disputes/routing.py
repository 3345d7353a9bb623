"""Where a new case goes: the category and risk decide the handling level and area.

"Small matters stay in the grid, big ones in the community, hard ones in the street":
ordinary cases use the category's default level (grid or community), major ones go to the
street centre, serious ones to the district centre."""

from dataclasses import dataclass

from common.prepared import Prepared
from grids.models import Area, AreaLevel, Department

from .models import Case, CaseStatus, Category, HandlingLevel, RiskLevel

LEVEL_FOR_RISK = {RiskLevel.MAJOR: HandlingLevel.STREET, RiskLevel.SERIOUS: HandlingLevel.DISTRICT}

# For each handling level, the area levels that can run that queue, nearest first.
QUEUE_AREA_LEVELS = {
    HandlingLevel.GRID: (AreaLevel.GRID, AreaLevel.DEDICATED, AreaLevel.COMMUNITY),
    HandlingLevel.COMMUNITY: (AreaLevel.COMMUNITY, AreaLevel.STREET),
    HandlingLevel.STREET: (AreaLevel.STREET, AreaLevel.DISTRICT),
    HandlingLevel.DISTRICT: (AreaLevel.DISTRICT,),
}
AREA_TO_HANDLING = {
    AreaLevel.GRID: HandlingLevel.GRID,
    AreaLevel.DEDICATED: HandlingLevel.GRID,
    AreaLevel.MICRO_GRID: HandlingLevel.GRID,
    AreaLevel.COMMUNITY: HandlingLevel.COMMUNITY,
    AreaLevel.STREET: HandlingLevel.STREET,
    AreaLevel.DISTRICT: HandlingLevel.DISTRICT,
}


@dataclass(frozen=True)
class Route:
    handling_level: str
    handling_area: Area
    lead_department: Department | None
    ancestors: dict


def route(*, category: Category, risk_level: str, area: Area, on_spot: bool = False) -> Route:
    ancestors = ancestors_by_level(area)
    if on_spot:
        level = HandlingLevel.GRID
    else:
        level = LEVEL_FOR_RISK.get(risk_level, category.default_handling_level)
    handling_area = next(
        (ancestors[lvl] for lvl in QUEUE_AREA_LEVELS[level] if lvl in ancestors), area
    )
    lead = category.lead_department or (
        category.parent.lead_department if category.parent_id else None
    )
    return Route(
        handling_level=AREA_TO_HANDLING.get(handling_area.level, level),
        handling_area=handling_area,
        lead_department=lead,
        ancestors=ancestors,
    )


def ancestor_ids(ancestors: dict) -> dict:
    grid = ancestors.get(AreaLevel.GRID) or ancestors.get(AreaLevel.DEDICATED)
    return {
        "district": ancestors.get(AreaLevel.DISTRICT),
        "street": ancestors.get(AreaLevel.STREET),
        "community": ancestors.get(AreaLevel.COMMUNITY),
        "grid": grid,
    }


# Read by every filing: compiled once per connection and number of paths (common.prepared).
AREAS_BY_PATH = Prepared(lambda *paths: Area.objects.filter(path__in=paths))


def ancestors_by_level(area: Area) -> dict[str, Area]:
    """The area and its ancestors keyed by level, one query."""
    paths = [area.path[:i] for i in range(area.steplen, len(area.path), area.steplen)]
    found = {a.level: a for a in AREAS_BY_PATH.rows(*paths)} if paths else {}
    found[area.level] = area
    return found


# Statuses from which a case can still move up a level (by hand, by risk or on red).
S = CaseStatus
ESCALATABLE = (S.FILED, S.ACCEPTED, S.ASSIGNED, S.IN_MEDIATION)
HANDLING_ORDER = ["grid", "community", "street", "district"]
RISK_ORDER = [RiskLevel.ORDINARY, RiskLevel.MAJOR, RiskLevel.SERIOUS]


def parent_queue(case: Case, at_least: str | None = None):
    """(handling level, area) of the next queue up, or of `at_least` if that is higher."""
    ancestors = ancestors_by_level(case.area)
    current = HANDLING_ORDER.index(case.handling_level)
    wanted = current + 1
    if at_least is not None:
        wanted = max(wanted, HANDLING_ORDER.index(at_least))
    for level in HANDLING_ORDER[wanted:]:
        for area_level in QUEUE_AREA_LEVELS[level]:
            area = ancestors.get(area_level)
            if area is not None and area.pk != case.handling_area_id:
                return AREA_TO_HANDLING[area.level], area
    return None, None


# The copied ancestor column of each area level a higher queue can sit at.
ANCESTOR_COLUMN = {
    AreaLevel.COMMUNITY: "community_id",
    AreaLevel.STREET: "street_id",
    AreaLevel.DISTRICT: "district_id",
}


def parent_queue_area_id(case: Case) -> int | None:
    """The area of parent_queue(case), without its query: above the grid level every queue
    sits at a community, street or district, whose ids are copied onto the case."""
    current = HANDLING_ORDER.index(case.handling_level)
    for level in HANDLING_ORDER[current + 1 :]:
        for area_level in QUEUE_AREA_LEVELS[level]:
            area_id = getattr(case, ANCESTOR_COLUMN[area_level])
            if area_id is not None and area_id != case.handling_area_id:
                return area_id
    return None


def has_parent_queue(case: Case) -> bool:
    return parent_queue_area_id(case) is not None

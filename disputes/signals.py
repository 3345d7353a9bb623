from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver

from grids.models import AreaLevel
from grids.signals import area_moved, calendar_year_covered
from sla.models import TimeBasis

from .models import LEVEL_COLUMN, Case
from .routing import ancestors_by_level
from .services.escalation import DEADLINE_FIELDS
from .tasks import place_deadlines

ABOVE = {
    AreaLevel.STREET: ("district",),
    AreaLevel.COMMUNITY: ("district", "street"),
    AreaLevel.GRID: ("district", "street", "community"),
    AreaLevel.DEDICATED: ("district", "street", "community"),
    AreaLevel.MICRO_GRID: ("district", "street", "community", "grid"),
}


@receiver(area_moved)
def refresh_case_ancestors(sender, area, **kwargs):
    """Cases filed under a moved subtree now belong to the new community/street: rewrite
    their copied ancestor ids in one UPDATE, inside the move's transaction."""
    ancestors = ancestors_by_level(area)
    changes = {}
    for column in ABOVE.get(area.level, ()):
        levels = [lvl for lvl, col in LEVEL_COLUMN.items() if col == f"{column}_id"]
        found = next((ancestors[lvl] for lvl in levels if lvl in ancestors), None)
        changes[column] = found
    if changes:
        Case.objects.filter(area__path__startswith=area.path).update(**changes)


@receiver(calendar_year_covered)
def place_estimated_deadlines(sender, year, **kwargs):
    """A year's calendar was filled in: open working-day cases with a deadline in that year
    had it estimated on Monday–Friday. Their ids and deadlines are taken now, inside the
    import's transaction; a task places them once it commits (tasks.place_deadlines), each
    only if it is still the value taken here."""
    snapshot = estimated_deadlines(year)
    if snapshot:
        transaction.on_commit(lambda: place_deadlines.delay(year, snapshot))


def estimated_deadlines(year: int) -> dict[str, list]:
    """{case id: [assign_due_at, first_update_due_at, close_due_at] as ISO text} for the open
    working-day cases with any of them in `year`."""
    rows = (
        Case.objects.open()
        .filter(sla_policy__time_basis=TimeBasis.WORKDAYS)
        .filter(
            Q(assign_due_at__year=year)
            | Q(first_update_due_at__year=year)
            | Q(close_due_at__year=year)
        )
        .values_list("pk", *DEADLINE_FIELDS)
    )
    return {str(pk): [d.isoformat() if d else None for d in dues] for pk, *dues in rows}

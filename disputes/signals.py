from django.dispatch import receiver

from grids.models import AreaLevel
from grids.signals import area_moved

from .models import LEVEL_COLUMN, Case
from .routing import ancestors_by_level

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

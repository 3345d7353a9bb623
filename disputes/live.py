"""Which open pages a change to a case concerns (notifications/live.py sends it): the case's
own page and the dashboards of every area the case counts in."""

from notifications import live

# A case's area and its copied ancestors, and the queue it waits in.
AREA_COLUMNS = (
    "area_id",
    "grid_id",
    "community_id",
    "street_id",
    "district_id",
    "handling_area_id",
)


def case_groups(case) -> list[str]:
    areas = sorted({getattr(case, column, None) for column in AREA_COLUMNS} - {None})
    return [live.case_group(case.pk), live.area_group(None), *map(live.area_group, areas)]


def announce(case):
    """Tell the pages showing the case that it changed, when the transaction commits: once
    per transaction, however many timeline entries it writes. `case` is a Case or any
    object with its id and these columns (the sweep's rows)."""
    announce_many([case])


def announce_many(cases):
    """`announce` for many cases at once (the sweep's batch)."""
    live.publish_many((case_groups(case), {"type": "case", "id": case.pk}) for case in cases)

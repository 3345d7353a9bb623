"""Whose dashboard covers which areas, over which period, and what each figure means."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from common.dates import out_of_range
from grids.models import Area, Role
from grids.selectors import topmost_areas

# Roles with a dashboard, at the area they are assigned to (and everything below it).
DASHBOARD_ROLES = frozenset(
    {
        Role.COMMUNITY_SECRETARY,
        Role.STREET_STAFF,
        Role.STREET_LEADER,
        Role.DISTRICT_STAFF,
        Role.ADMIN,
    }
)

HOTSPOT_MIN_CASES = 3
GROUP_DISPUTE_MIN_PEOPLE = 10
# A daily trend longer than this is shown by month.
# A daily trend longer than this is shown by month.
DAILY_TREND_MAX_DAYS = 92

MAX_PERIOD_DAYS = 3660

DEFINITIONS = [
    (_("Cases filed"), _("Disputes filed in the area between the two dates, both included.")),
    (
        _("Resolution rate"),
        _(
            "Substantively resolved ÷ counted cases. Counted: the period's cases except "
            "withdrawn ones. Substantively resolved: an agreement or a partial agreement was "
            "reached (also on the spot), whether or not the case is formally closed yet. "
            "Procedural closes, failed mediations and referrals do not count."
        ),
    ),
    (
        _("Closing rate"),
        _("Concluded ÷ counted cases. Concluded: resolved, closed (of any kind) or referred."),
    ),
    (
        _("On-time rates"),
        _(
            "For each step (assignment within its limit, first handling after assignment, "
            "concluding before the closing deadline): steps done in time ÷ steps due. Due: "
            "the step was done, or its limit has passed without it. Steps still within their "
            "limit are not counted."
        ),
    ),
    (
        _("Satisfaction rate"),
        _(
            "Answers “satisfied” or “basically satisfied” ÷ all answers given by residents "
            "in the period: their rating of a closed case and their answer on a callback. "
            "Each case counts once, by its latest answer. This rate follows when residents "
            "answered, not when the case was filed."
        ),
    ),
    (
        _("Colours"),
        _(
            "Open cases now, whatever their filing date: red past the closing deadline, "
            "orange a step not done on time, green otherwise."
        ),
    ),
    (
        _("Hot spots"),
        # format_lazy: "%" on a lazy string would translate it once, at import.
        format_lazy(
            _(
                "Addresses and micro-grids with {n} or more disputes in the period, and group "
                "disputes involving {people} or more people."
            ),
            n=HOTSPOT_MIN_CASES,
            people=GROUP_DISPUTE_MIN_PEOPLE,
        ),
    ),
]


def dashboard_roots(user) -> list[Area] | None:
    """The areas whose dashboard the user may open (and everything below them); None means
    the whole system. PermissionDenied for users without a dashboard role."""
    roots = topmost_areas(user, DASHBOARD_ROLES)
    if roots is None:
        return None
    if not roots:
        raise PermissionDenied(_("The dashboard is for community, street and district staff."))
    return roots


def dashboard_areas(user):
    """Every area the user may see figures for (for validating ?area=)."""
    roots = dashboard_roots(user)
    if roots is None:
        return Area.objects.all()
    condition = Q()
    for root in roots:
        condition |= Q(path__startswith=root.path)
    return Area.objects.filter(condition)


def default_area(user) -> Area | None:
    roots = dashboard_roots(user)
    return None if roots is None else roots[0]


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """[start 00:00, the day after `end` 00:00) in local time."""
        tz = timezone.get_current_timezone()
        start = timezone.make_aware(datetime.combine(self.start, time.min), tz)
        end = timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min), tz)
        return start, end

    @property
    def by_month(self) -> bool:
        return self.days > DAILY_TREND_MAX_DAYS


def period_for(start: date | None, end: date | None, *, today: date | None = None) -> Period:
    """This month so far by default; one missing end is filled in. ValueError if reversed
    or longer than about ten years."""
    today = today or timezone.localdate()
    refused = out_of_range(start, end)
    if refused:
        raise ValueError(refused)
    if start is None and end is None:
        return Period(today.replace(day=1), today)
    if start is None:
        start = end.replace(day=1)
    if end is None:
        end = max(today, start)
    if start > end:
        raise ValueError(_("The start date is after the end date."))
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise ValueError(_("Choose a period of at most ten years."))
    return Period(start, end)

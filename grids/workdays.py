"""The Chinese statutory working-day calendar, holidays and make-up days (调休) included.

Source of truth, in order: the admin's CalendarDay overrides (a year's notice imported in
admin, or local exceptions); the chinese-calendar package for the years it knows;
Monday–Friday for years nobody has entered yet. Such a year is "not covered": /sla/health/,
`manage.py sla_status` and the admin warn when one falls within the next 90 days, and cases
whose working-day deadlines fall in one say so."""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import chinese_calendar
from django.conf import settings
from django.utils import timezone

from .models import CalendarDay, CalendarYear

log = logging.getLogger(__name__)


def _overrides(start: date, end: date) -> dict[date, bool]:
    return dict(
        CalendarDay.objects.filter(date__gte=start, date__lte=end).values_list("date", "is_workday")
    )


def _statutory(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        # An imported year's days off are all CalendarDay rows; an uncovered one is warned
        # about by calendar_coverage, not here (this runs for every day of every deadline).
        return day.weekday() < 5


def package_knows(year: int) -> bool:
    """Whether the chinese-calendar package has the State Council's schedule for the year."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@dataclass(frozen=True)
class Coverage:
    start: date
    end: date
    uncovered: tuple[int, ...]

    @property
    def ok(self) -> bool:
        return not self.uncovered


def calendar_coverage(today: date, days: int = 90) -> Coverage:
    """Which years between today and `days` ahead have no statutory schedule: neither the
    package nor an imported notice (CalendarYear). One query at most."""
    end = today + timedelta(days=days)
    years = range(today.year, end.year + 1)
    unknown = [y for y in years if not package_knows(y)]
    imported = (
        set(CalendarYear.objects.filter(year__in=unknown).values_list("year", flat=True))
        if unknown
        else set()
    )
    return Coverage(today, end, tuple(y for y in unknown if y not in imported))


def uncovered_years(years) -> set[int]:
    """Of these years, those the calendar does not cover (deadlines there are estimates)."""
    unknown = {y for y in years if not package_knows(y)}
    if not unknown:
        return set()
    return unknown - set(
        CalendarYear.objects.filter(year__in=unknown).values_list("year", flat=True)
    )


class Calendar:
    """Working-day questions over a date range with one query for the overrides."""

    def __init__(self, start: date, end: date):
        self.overrides = _overrides(start, end)

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return _statutory(day)

    def next_workday(self, day: date) -> date:
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def start_of_work(self, start: datetime) -> datetime:
        """When work on something that arrives at `start` can begin: at once in office hours
        of a working day; otherwise at the next opening (the same day before it opens, else
        the next working day). Assigned at 00:30 on 1 October, it starts on 8 October at
        08:30, not the moment the holiday ends at midnight."""
        opens, closes = office_hours()
        day = start.date()
        if self.is_workday(day) and opens <= start.time() < closes:
            return start
        if not self.is_workday(day) or start.time() >= closes:
            day = self.next_workday(day + timedelta(days=1))
        return datetime.combine(day, opens, tzinfo=start.tzinfo)

    def add_workdays(self, start: datetime, days: int) -> datetime:
        """`days` working days after work can begin (`start_of_work`), at that time of day:
        a case filed on Monday at 10:00 with one working day is due on Tuesday at 10:00; one
        filed on Saturday is due on Tuesday at the opening."""
        if days <= 0:
            return start
        current = self.start_of_work(start)
        remaining = days
        while remaining > 0:
            current += timedelta(days=1)
            if self.is_workday(current.date()):
                remaining -= 1
        return current


def place_estimate(moment: datetime) -> datetime:
    """A working-day deadline that was computed while its year was not covered (Monday to
    Friday assumed) placed on the calendar as it is now: the k-th weekday of the year
    becomes the k-th working day, at the same time of day. A moment on a weekend keeps its
    distance after the weekday before it. Call after the year is filled in."""
    moment = timezone.localtime(moment)
    year = moment.date().year
    jan1 = date(year, 1, 1)
    calendar = Calendar(jan1 - timedelta(days=31), date(year + 1, 3, 1))
    day, extra = moment.date(), timedelta(0)
    while day >= jan1 and day.weekday() >= 5:  # a weekend: count from the weekday before
        day, extra = day - timedelta(days=1), extra + timedelta(days=1)
    ordinal = sum(
        1 for n in range((day - jan1).days + 1) if (jan1 + timedelta(days=n)).weekday() < 5
    )
    # The 0th working day is the last one before the year, as the estimate had it.
    real = jan1 - timedelta(days=1)
    while not calendar.is_workday(real):
        real -= timedelta(days=1)
    while ordinal:
        real += timedelta(days=1)
        if calendar.is_workday(real):
            ordinal -= 1
    return moment + (datetime.combine(real, time(), tzinfo=moment.tzinfo) + extra
                     - datetime.combine(moment.date(), time(), tzinfo=moment.tzinfo))  # fmt: skip


def office_hours() -> tuple[time, time]:
    opens, closes = (time.fromisoformat(t) for t in settings.SLA_OFFICE_HOURS)
    return opens, closes


def calendar_for(start: date, span_days: int) -> Calendar:
    # Holidays never stretch more than ~10 days, so twice the span plus a margin is ample.
    return Calendar(start, start + timedelta(days=span_days * 2 + 30))


def is_workday(day: date) -> bool:
    return Calendar(day, day).is_workday(day)


def next_workday(day: date) -> date:
    return calendar_for(day, 15).next_workday(day)

"""The Chinese statutory working-day calendar, holidays and make-up days (调休) included.

Source of truth, in order: the admin's CalendarDay overrides (a year's notice imported in
admin, or local exceptions); the chinese-calendar package for the years it knows;
Monday–Friday for years nobody has entered yet. Such a year is "not covered": /sla/health/,
`manage.py sla_status` and the admin warn when one falls within the next 90 days, and cases
whose working-day deadlines fall in one say so."""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import chinese_calendar

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

    def add_workdays(self, start: datetime, days: int) -> datetime:
        """`days` working days after `start`, at the same time of day. A start on a day off
        counts from the next working day, as a clerk would."""
        current = start
        remaining = days
        while remaining > 0:
            current += timedelta(days=1)
            if self.is_workday(current.date()):
                remaining -= 1
        return current


def calendar_for(start: date, span_days: int) -> Calendar:
    # Holidays never stretch more than ~10 days, so twice the span plus a margin is ample.
    return Calendar(start, start + timedelta(days=span_days * 2 + 30))


def is_workday(day: date) -> bool:
    return Calendar(day, day).is_workday(day)


def next_workday(day: date) -> date:
    return calendar_for(day, 15).next_workday(day)

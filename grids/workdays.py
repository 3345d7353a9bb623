"""The Chinese statutory working-day calendar, holidays and make-up days (调休) included.

Source of truth, in order: the admin's CalendarDay overrides; the chinese-calendar package
for the years it knows; Monday–Friday for years nobody has entered yet (logged, so an admin
can add the State Council's schedule when it is published)."""

import logging
from datetime import date, datetime, timedelta

import chinese_calendar

from .models import CalendarDay

log = logging.getLogger(__name__)


def _overrides(start: date, end: date) -> dict[date, bool]:
    return dict(
        CalendarDay.objects.filter(date__gte=start, date__lte=end).values_list("date", "is_workday")
    )


def _statutory(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        log.warning("No statutory calendar for %s; assuming Monday–Friday", day.year)
        return day.weekday() < 5


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

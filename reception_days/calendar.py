"""When reception days fall: the third Wednesday of each month, moved off statutory days off."""

from datetime import date, timedelta

import chinese_calendar

from grids.workdays import Calendar

THIRD_WEDNESDAY = 2  # date.weekday()


def third_wednesday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(THIRD_WEDNESDAY - first.weekday()) % 7 + 14)


def months_from(start: date, count: int) -> list[tuple[int, int]]:
    months = []
    year, month = start.year, start.month
    for _index in range(count):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def day_off_name(day: date, names: dict[date, str]) -> str:
    """Why a day is not worked: the admin's name for it, else the statutory holiday's
    Chinese name (a name of record, like a community's name, not an interface string)."""
    if names.get(day):
        return names[day]
    try:
        _is_holiday, holiday = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        holiday = None
    if holiday:
        try:
            return chinese_calendar.Holiday(holiday).chinese
        except ValueError:
            return holiday
    return "法定节假日"


def monthly_dates(year: int, month: int, cal: Calendar, names: dict[date, str]):
    """(date, original date or None, reason): the third Wednesday, or the next working
    day when it falls on a statutory holiday."""
    due = third_wednesday(year, month)
    held = cal.next_workday(due)
    if held == due:
        return due, None, ""
    return held, due, day_off_name(due, names)

"""Filling in a year of the working-day calendar: the State Council's notice pasted in
admin, or a CSV file. Both replace what an earlier import of the same year wrote and leave
days typed by hand alone."""

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction

from .holiday_notice import NoticeDay
from .models import CalendarDay, CalendarYear, User
from .signals import calendar_year_covered
from .workdays import package_knows

CSV_HEADERS = {
    "date": ("date", "日期"),
    "is_workday": ("is_workday", "上班", "工作日"),
    "name": ("name", "名称", "节日"),
}
YES = {"1", "true", "yes", "y", "是", "上班", "班", "工作日"}
NO = {"0", "false", "no", "n", "否", "放假", "休", "休息"}


@dataclass
class CalendarImport:
    year: int
    written: int = 0
    # Days typed by hand that the import did not overwrite: (date, what the notice says).
    kept: list[tuple[date, bool]] = field(default_factory=list)
    # Whether the cases' estimated deadlines in this year are being recomputed.
    recompute_queued: bool = False


@transaction.atomic
def calendar_year_import(
    *, year: int, days: list[NoticeDay], source: str, actor: User | None, text: str = ""
) -> CalendarImport:
    """Write the year's days off and make-up working days; the year counts as covered from
    now on. Idempotent: importing the same notice again changes nothing."""
    result = CalendarImport(year=year)
    CalendarDay.objects.filter(notice_year=year).delete()
    manual = dict(
        CalendarDay.objects.filter(date__in=[d.day for d in days]).values_list("date", "is_workday")
    )
    rows = []
    for day in days:
        if day.day in manual:
            if manual[day.day] != day.is_workday:
                result.kept.append((day.day, day.is_workday))
            continue
        rows.append(
            CalendarDay(date=day.day, is_workday=day.is_workday, name=day.name, notice_year=year)
        )
    CalendarDay.objects.bulk_create(rows)
    result.written = len(rows)
    newly_covered = not package_knows(year) and not CalendarYear.objects.filter(year=year).exists()
    CalendarYear.objects.update_or_create(
        year=year, defaults={"source": source, "text": text, "imported_by": actor}
    )
    if newly_covered:
        # Deadlines placed in this year so far were Monday–Friday estimates. Only the first
        # import: after it, deadlines are computed on real days, and a corrected re-import
        # leaves them where they are (a clerk moves one by hand, with an extension).
        result.recompute_queued = bool(calendar_year_covered.send(sender=CalendarYear, year=year))
    return result


def read_calendar_csv(data: bytes, year: int) -> tuple[list[NoticeDay], list[str]]:
    """Rows `date,is_workday,name` (or 日期,上班,名称) → days; every bad row named by line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], ["文件不是 UTF-8 编码的 CSV。"]
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    columns = {}
    for key, names in CSV_HEADERS.items():
        found = next((i for i, h in enumerate(header) if h in names), None)
        if found is None and key != "name":
            return [], [f"缺少列：{names[0]}（或 {names[1]}）。"]
        columns[key] = found
    days, errors = [], []
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            day = date.fromisoformat(row[columns["date"]].strip())
        except (ValueError, IndexError):
            errors.append(f"第 {line} 行：日期应为 YYYY-MM-DD。")
            continue
        flag = (
            row[columns["is_workday"]].strip().lower() if len(row) > columns["is_workday"] else ""
        )
        if flag not in YES | NO:
            errors.append(f"第 {line} 行：上班一栏应为 1/0、是/否 或 上班/放假。")
            continue
        if abs(day.year - year) > 1:
            errors.append(f"第 {line} 行：{day} 不属于 {year} 年的安排。")
            continue
        name = (
            row[columns["name"]].strip()
            if columns["name"] is not None and len(row) > columns["name"]
            else ""
        )
        days.append(NoticeDay(day, flag in YES, name[:50]))
    return days, errors

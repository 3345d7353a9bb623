"""Read the State Council's yearly holiday notice (国务院办公厅关于XXXX年部分节假日安排的通知).

Every year's notice uses the same few phrasings, e.g.

    一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
    三、清明节：4月5日放假，4月6日（星期一）补休。
    一、元旦：2018年12月30日至2019年1月1日放假调休，共3天。2018年12月29日（星期六）上班。

so an admin can paste the notice as published and get the year's days off and make-up
working days (调休) without typing dates. Each clause (split at 。 and ，) is read on its own:
one with 上班 lists make-up working days; one with 放假, 补休 or 休息 gives days off, a range
(A至B) or single dates. Everything in brackets (weekdays, lunar dates, asides such as
"安排职工在除夕（2月9日）休息") is dropped first: it never states a rule. Lines that look
like an item but yield no date are reported, so nothing is silently skipped."""

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

ITEM = re.compile(r"^\s*[一二三四五六七八九十]+、\s*(?P<name>[^：:]+)[：:](?P<body>.*)$")
TITLE_YEAR = re.compile(r"(\d{4})\s*年\s*部分节假日")
BRACKETS = re.compile(r"[（(][^）)]*[）)]")
DATE = r"(?:(?P<{p}y>\d{{4}})年)?(?:(?P<{p}m>\d{{1,2}})月)?(?P<{p}d>\d{{1,2}})日"
RANGE = re.compile(DATE.format(p="a") + r"\s*至\s*" + DATE.format(p="b"))
ONE_DATE = re.compile(DATE.format(p="s"))
DAY_OFF_WORDS = ("放假", "补休", "休息")
# Sixty days off in one item would be a typo (a month for a day), not a holiday.
MAX_RANGE_DAYS = 14


@dataclass(frozen=True)
class NoticeDay:
    day: date
    is_workday: bool
    name: str


@dataclass
class ParsedNotice:
    year: int
    days: list[NoticeDay] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def holidays(self) -> list[NoticeDay]:
        return [d for d in self.days if not d.is_workday]

    @property
    def workdays(self) -> list[NoticeDay]:
        return [d for d in self.days if d.is_workday]


class NoticeError(ValueError):
    """The text is not a holiday notice this parser can read (no year, no item)."""


def notice_year(text: str) -> int | None:
    found = TITLE_YEAR.search(text or "")
    return int(found.group(1)) if found else None


def parse_notice(text: str, year: int | None = None) -> ParsedNotice:
    """The notice's days, in order of appearance, each date once (a later mention wins).
    `year`: the notice's year, if the pasted text lacks the title."""
    year = year or notice_year(text)
    if year is None:
        raise NoticeError("缺少年份：请粘贴通知标题，或填写年份。")
    result = ParsedNotice(year=year)
    found_item = False
    by_day: dict[date, NoticeDay] = {}
    for line in (text or "").splitlines():
        item = ITEM.match(line.strip())
        if item is None:
            continue
        found_item = True
        name = item["name"].strip()
        days = _item_days(year, name, item["body"], result.warnings)
        if not days:
            result.warnings.append(f"未能识别日期：{line.strip()}")
        for notice_day in days:
            by_day[notice_day.day] = notice_day
    if not found_item:
        raise NoticeError("没有找到“一、元旦：……”这样的条目，请粘贴通知正文。")
    result.days = sorted(by_day.values(), key=lambda d: d.day)
    return result


def _item_days(year: int, name: str, body: str, warnings: list[str]) -> list[NoticeDay]:
    days = []
    text = BRACKETS.sub("", body)
    for clause in re.split(r"[。；;，,]", text):
        if "上班" in clause:
            for m in ONE_DATE.finditer(clause):
                days.append(NoticeDay(_date(year, m, "s", None), True, name))
        elif any(word in clause for word in DAY_OFF_WORDS):
            span = RANGE.search(clause)
            if span is not None:
                start = _date(year, span, "a", None)
                end = _date(year, span, "b", start)
                if not 0 <= (end - start).days < MAX_RANGE_DAYS:
                    warnings.append(f"日期范围不合理：{name} {span.group(0)}")
                    continue
                days += [
                    NoticeDay(start + timedelta(days=i), False, name)
                    for i in range((end - start).days + 1)
                ]
            else:
                for m in ONE_DATE.finditer(clause):
                    days.append(NoticeDay(_date(year, m, "s", None), False, name))
    return days


def _date(year: int, match: re.Match, prefix: str, start: date | None) -> date:
    """A date of the notice: its own year if written, else the notice's year; a range's end
    without a month takes the start's month (至3日), and a range that runs past December
    into January ends in the next year."""
    y, m, d = (match[f"{prefix}{part}"] for part in "ymd")
    if m is None and start is not None:
        month = start.month
    elif m is None:
        raise NoticeError(f"日期缺少月份：{match.group(0)}")
    else:
        month = int(m)
    if y is not None:
        resolved_year = int(y)
    elif start is not None:
        resolved_year = start.year + (1 if month < start.month else 0)
    else:
        resolved_year = year
    return date(resolved_year, month, int(d))


def weekday_plan(parsed: ParsedNotice, days: list[date]) -> dict[date, bool]:
    """Working day or not for each of `days`, by the notice over a Monday–Friday week."""
    listed = {d.day: d.is_workday for d in parsed.days}
    return {day: listed.get(day, day.weekday() < 5) for day in days}

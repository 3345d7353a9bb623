"""The State Council's holiday notices of 2015–2026, as published (2020: as extended by the
epidemic notice), read by the parser, give exactly chinese-calendar's working days."""

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from grids.holiday_notice import NoticeError, notice_year, parse_notice, weekday_plan

NOTICES = Path(__file__).parent / "notices"
YEARS = range(2015, 2027)


def notice(year: int) -> str:
    return (NOTICES / f"{year}.txt").read_text(encoding="utf-8")


def every_day(year: int) -> list[date]:
    start = date(year, 1, 1)
    return [start + timedelta(days=i) for i in range((date(year + 1, 1, 1) - start).days)]


@pytest.mark.parametrize("year", YEARS)
def test_each_notice_gives_chinese_calendars_working_days(year):
    parsed = parse_notice(notice(year))
    # The next year's notice may reach back into this December (元旦 from 12月30日).
    later = parse_notice(notice(year + 1)) if year + 1 in YEARS else None
    if later is not None:
        parsed.days += [d for d in later.days if d.day.year == year]
    plan = weekday_plan(parsed, every_day(year))
    wrong = {d: ok for d, ok in plan.items() if ok != chinese_calendar.is_workday(d)}
    assert parsed.year == year and parsed.warnings == []
    assert wrong == {}


def test_it_reads_the_year_from_the_title_or_takes_it_given():
    assert notice_year(notice(2026)) == 2026
    body = "\n".join(notice(2026).splitlines()[1:])
    assert parse_notice(body, 2026).days == parse_notice(notice(2026)).days
    with pytest.raises(NoticeError):
        parse_notice(body)


def test_it_reads_a_range_into_the_next_year_and_explicit_years():
    parsed = parse_notice(notice(2019))
    new_year = [d.day for d in parsed.holidays if d.name == "元旦"]
    assert new_year == [date(2018, 12, 30), date(2018, 12, 31), date(2019, 1, 1)]
    assert date(2018, 12, 29) in [d.day for d in parsed.workdays]


def test_brackets_and_asides_state_no_rule():
    parsed = parse_notice(notice(2024))
    assert date(2024, 2, 9) not in [d.day for d in parsed.days]  # 除夕 only "encouraged"
    parsed = parse_notice(notice(2015))
    days = {d.day: d.is_workday for d in parsed.days}
    assert days[date(2015, 9, 3)] is False and days[date(2015, 9, 6)] is True


def test_it_reports_an_item_it_cannot_read_instead_of_skipping_it():
    parsed = parse_notice(
        "2027年部分节假日安排\n一、元旦：元月一日放假。\n二、春节：2月6日至12日放假。"
    )
    assert parsed.warnings == ["未能识别日期：一、元旦：元月一日放假。"]
    assert len(parsed.holidays) == 7


def test_it_refuses_text_that_is_not_a_notice():
    with pytest.raises(NoticeError):
        parse_notice("随便一段文字", 2027)

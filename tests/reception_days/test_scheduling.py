"""Monthly sessions on the third Wednesday (moved past statutory holidays), duty rotas,
and the scheduler's idempotency."""

from datetime import date, datetime, time
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from grids.models import Assignment, CalendarDay, Role
from reception_days import services, tasks
from reception_days.calendar import third_wednesday
from reception_days.models import (
    MediationUnit,
    ReceptionSession,
    RotaSlot,
    SessionKind,
    SessionStaff,
    SessionStatus,
)
from tests.reception_days.conftest import SH, day, staff

MONTHLY = SessionKind.MONTHLY


def monthly(community=None):
    qs = ReceptionSession.objects.filter(kind=MONTHLY).order_by("date")
    return qs.filter(community=community) if community else qs


def counts():
    return ReceptionSession.objects.count(), SessionStaff.objects.count()


def test_it_finds_the_third_wednesday_of_every_month():
    for year in (2025, 2026, 2027):
        for month in range(1, 13):
            wednesday = third_wednesday(year, month)
            assert wednesday.weekday() == 2
            assert (wednesday.year, wednesday.month) == (year, month)
            assert 15 <= wednesday.day <= 21


def test_it_schedules_a_whole_year_and_moves_the_spring_festival_session(world):
    created = services.schedule_monthly_sessions(months=12, today=day("2026-01-01"))

    # C1 and C3 have a team (C2 and C4 have none): twelve sessions each, one a month.
    assert {s.community for s in created} == {world.c1, world.c3}
    assert len(created) == 24
    sessions = list(monthly(world.c1))
    assert [(s.date, s.original_date, s.move_reason) for s in sessions] == [
        (day("2026-01-21"), None, ""),
        # 2026-02-18 is in the Spring Festival holiday (15–23 February): the next working
        # day is Tuesday the 24th, and the move is on record.
        (day("2026-02-24"), day("2026-02-18"), "春节"),
        (day("2026-03-18"), None, ""),
        (day("2026-04-15"), None, ""),
        (day("2026-05-20"), None, ""),
        (day("2026-06-17"), None, ""),
        (day("2026-07-15"), None, ""),
        (day("2026-08-19"), None, ""),
        (day("2026-09-16"), None, ""),
        (day("2026-10-21"), None, ""),
        (day("2026-11-18"), None, ""),
        (day("2026-12-16"), None, ""),
    ]
    first = sessions[0]
    assert (first.status, first.starts_at, first.ends_at) == (SessionStatus.PLANNED, time(9),
                                                              time(12))  # fmt: skip
    assert first.created_by is None
    # The three officers and a lawyer, in that order, linked to their team assignments.
    team = [(s.user, s.role) for s in first.staff.order_by("id")]
    assert team == [(world.judge, Role.JUDGE), (world.prosecutor, Role.PROSECUTOR),
                    (world.police, Role.POLICE), (world.lawyer, Role.LAWYER)]  # fmt: skip
    assert all(s.assignment.user_id == s.user_id for s in first.staff.all())


def test_it_creates_nothing_when_run_again(world):
    services.schedule_monthly_sessions(months=12, today=day("2026-01-01"))
    before = counts()

    assert services.schedule_monthly_sessions(months=12, today=day("2026-01-01")) == []
    assert services.schedule_monthly_sessions(months=3, today=day("2026-02-20")) == []
    assert services.schedule_reception_days(months=6, weeks=2, today=day("2026-06-01")) == {
        "monthly": 0,
        "duty": 0,
    }
    assert counts() == before


def test_it_moves_a_session_off_a_day_the_admin_declared_a_holiday(world):
    CalendarDay.objects.create(date=day("2026-03-18"), is_workday=False, name="区运动会")

    services.schedule_monthly_sessions(months=1, today=day("2026-03-01"))

    session = monthly(world.c1).get()
    assert (session.date, session.original_date, session.move_reason) == (
        day("2026-03-19"),
        day("2026-03-18"),
        "区运动会",
    )


def test_it_keeps_one_session_a_month_when_the_calendar_changes_afterwards(world):
    services.schedule_monthly_sessions(months=1, today=day("2026-03-01"))
    CalendarDay.objects.create(date=day("2026-03-18"), is_workday=False, name="临时调整")

    assert services.schedule_monthly_sessions(months=1, today=day("2026-03-01")) == []
    assert monthly(world.c1).count() == 1


def test_it_does_not_recreate_a_cancelled_session(world):
    services.schedule_monthly_sessions(months=1, today=day("2026-12-01"))
    session = monthly(world.c1).get()
    services.session_cancel(session=session, actor=world.secretary, reason="社区停电")

    assert services.schedule_monthly_sessions(months=1, today=day("2026-12-01")) == []
    assert monthly(world.c1).get().status == SessionStatus.CANCELLED


def test_it_skips_dates_already_past(world):
    # 2026-11-18 has passed on the 25th; only December's session is created.
    created = services.schedule_monthly_sessions(months=2)
    assert [s.date for s in created] == [day("2026-12-16")] * 2


def test_it_only_schedules_communities_with_an_active_community_level_team(world):
    staff(Role.MEDIATOR, world.c2)  # not one of the three officers and a lawyer
    ended = staff(Role.JUDGE, world.c4)
    Assignment.objects.filter(user=ended).update(ended_at=datetime(2026, 6, 1, tzinfo=SH))
    staff(Role.JUDGE, world.s2)  # paired with a street, not a community

    created = services.schedule_monthly_sessions(months=2, today=day("2026-12-01"))

    # C3 (its lawyer) and C1; not C2 (no officer), not C4 (the pairing ended).
    assert {s.community for s in created} == {world.c1, world.c3}


def test_it_refuses_a_second_monthly_session_on_the_same_day_in_the_database(world):
    services.schedule_monthly_sessions(months=1, today=day("2026-12-01"))
    session = monthly(world.c1).get()
    duplicate = ReceptionSession(
        community=world.c1, kind=MONTHLY, venue="x", date=session.date,
        starts_at=time(14), ends_at=time(16),
    )  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_it_brings_planned_sessions_up_to_date_with_the_team(world):
    services.schedule_monthly_sessions(months=2, today=day("2026-11-01"))
    past, future = monthly(world.c1)
    new_lawyer = staff(Role.LAWYER, world.c1, real_name="新律师")
    Assignment.objects.filter(user=world.police).update(ended_at=datetime(2026, 11, 20, tzinfo=SH))
    services.session_add_staff(session=future, actor=world.secretary, name="信访干部", duty="信访")

    services.schedule_monthly_sessions(months=2)

    names = set(future.staff.values_list("name", flat=True))
    assert "新律师" in names and "何警官" not in names
    assert "信访干部" in names  # extra staff are left alone
    # The session already past keeps who was scheduled then.
    assert "何警官" in set(past.staff.values_list("name", flat=True))
    assert not past.staff.filter(user=new_lawyer).exists()


@pytest.fixture
def market(world):
    unit = MediationUnit.objects.create(community=world.c1, name="农贸市场", address="菜场管理处")
    RotaSlot.objects.create(unit=unit, weekday=0, user=world.lawyer, duty="周一值班律师")
    RotaSlot.objects.create(unit=unit, weekday=2, user=world.police)
    RotaSlot.objects.create(unit=unit, weekday=2, user=world.worker, duty="网格员")
    return unit


def test_it_builds_daily_duty_sessions_from_the_weekly_rota(world, market):
    created = services.schedule_duty_sessions(weeks=2, today=day("2026-11-30"))

    assert [(s.date, s.kind, s.unit, s.venue) for s in created] == [
        (day("2026-11-30"), SessionKind.DUTY, market, "菜场管理处"),
        (day("2026-12-02"), SessionKind.DUTY, market, "菜场管理处"),
        (day("2026-12-07"), SessionKind.DUTY, market, "菜场管理处"),
        (day("2026-12-09"), SessionKind.DUTY, market, "菜场管理处"),
    ]
    monday, wednesday = created[0], created[1]
    assert [(s.user, s.role, s.duty) for s in monday.staff.all()] == [
        (world.lawyer, Role.LAWYER, "周一值班律师")
    ]
    assert [(s.user, s.role) for s in wednesday.staff.order_by("id")] == [
        (world.police, Role.POLICE), (world.worker, "")
    ]  # fmt: skip
    assert services.schedule_duty_sessions(weeks=2, today=day("2026-11-30")) == []


def test_it_keeps_no_duty_on_statutory_holidays(world, market):
    # National Day week 2026: 1–7 October are days off, Saturday 10 October is worked.
    created = services.schedule_duty_sessions(weeks=3, today=day("2026-09-28"))
    assert [s.date for s in created] == [day("2026-09-28"), day("2026-09-30"),
                                         day("2026-10-12"), day("2026-10-14")]  # fmt: skip


def test_it_runs_from_the_management_command_idempotently(world):
    out = StringIO()
    call_command("schedule_reception_days", "--months", "2", stdout=out)
    assert "Created 2 monthly and 0 duty sessions." in out.getvalue()
    call_command("schedule_reception_days", "--months", "2", stdout=out)
    assert "Created 0 monthly and 0 duty sessions." in out.getvalue()
    with pytest.raises(CommandError):
        call_command("schedule_reception_days", "--months", "0", stdout=out)


def test_it_runs_daily_from_beat(world, celery_eager):
    entry = settings.CELERY_BEAT_SCHEDULE["schedule-reception-days"]
    assert entry["task"] == "reception_days.tasks.schedule_reception_days"
    assert entry["schedule"] <= 24 * 60 * 60

    assert tasks.schedule_reception_days.delay(months=2).get() == {"monthly": 2, "duty": 0}
    assert tasks.schedule_reception_days.delay(months=2).get() == {"monthly": 0, "duty": 0}
    assert monthly(world.c1).get().date == date(2026, 12, 16)

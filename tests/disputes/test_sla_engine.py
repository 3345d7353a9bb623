"""The SLA engine end to end: colours and reasons with the clock moved, the SQL twin, the
on-time flags, policy selection and versions, extensions, working-day policies on the
statutory calendar, and escalation by hand, by risk and automatically on red.

Scenario: a dispute filed in grid 1 of community 1 (street 1). The responsible worker is that
grid's worker, the centre staff above them are community 1's secretary and mediator, street
1's centre staff and the district centre; the outsider works in a grid of street 2. The
sweep itself (events, notifications, outages) is in test_sla_engine_sweep.py, its races
in test_sla_engine_races.py."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from disputes import services
from disputes.models import (
    Case,
    CaseEvent,
    CaseStatus,
    Category,
    Channel,
    HandlingLevel,
    Outcome,
    RiskLevel,
)
from disputes.services import TransitionError
from disputes.sweep import sla_sweep_step
from grids.models import CalendarDay, Role
from notifications.models import Notification
from sla import clock
from sla.models import SlaPolicy, TimeBasis
from tests.factories import Tree, UserFactory, assign

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=SH)  # a Monday morning
SECOND = timedelta(seconds=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
S = CaseStatus
K = CaseEvent.Kind
GREEN, ORANGE, RED = clock.GREEN, clock.ORANGE, clock.RED


@pytest.fixture(autouse=True)
def _clock(time_machine):
    # Frozen before any assignment is created, so every assignment is active "now".
    time_machine.move_to(T0, tick=False)


def staff(role: str, area=None, **user):
    person = UserFactory(**user)
    assign(person, role, area=area)
    return person


# These tests are about deadlines and breaches: their policies warn of nothing and set no
# progress limit (test_warnings.py and test_progress_limit.py test those, with breaches).
BREACHES_ONLY = {"warn_at_percent": 0, "progress_every_days": 0}


def default_policy() -> SlaPolicy:
    """The "13710" row of migration 0002 (a transactional test elsewhere may have flushed it),
    without warnings or a progress limit (BREACHES_ONLY)."""
    policy, _ = SlaPolicy.objects.update_or_create(
        code="default",
        version=1,
        defaults=BREACHES_ONLY,
        create_defaults={"name": "默认时限", "close_within_days": 30, **BREACHES_ONLY},
    )
    return policy


class World:
    def __init__(self):
        self.tree = t = Tree()
        self.policy = default_policy()
        neighbours = Category.objects.create(code="02", name="邻里纠纷")
        self.neighbours = neighbours
        self.category = Category.objects.create(
            code="0203", name="房屋漏水", parent=neighbours,
            default_handling_level=HandlingLevel.COMMUNITY,
        )  # fmt: skip
        self.grid_category = Category.objects.create(
            code="0201", name="楼道堆物", parent=neighbours,
            default_handling_level=HandlingLevel.GRID,
        )  # fmt: skip
        labour = Category.objects.create(code="05", name="劳动争议")
        self.other_category = Category.objects.create(
            code="0501", name="拖欠工资", parent=labour,
            default_handling_level=HandlingLevel.COMMUNITY,
        )  # fmt: skip
        # Contact details decide the outbox rows: email and/or phone, or neither.
        self.worker = staff(Role.GRID_WORKER, t.grids[0], username="worker",
                            email="worker@grid.example", phone="13800000001")  # fmt: skip
        self.secretary = staff(Role.COMMUNITY_SECRETARY, t.communities[0], username="secretary",
                               email="secretary@grid.example", phone="13800000002")  # fmt: skip
        self.mediator = staff(Role.MEDIATOR, t.communities[0], username="mediator",
                              email="", phone="13800000003")  # fmt: skip
        self.street = staff(Role.STREET_STAFF, t.streets[0], username="street",
                            email="street@grid.example", phone="")  # fmt: skip
        self.district = staff(Role.DISTRICT_STAFF, t.district, username="district",
                              email="district@grid.example", phone="13800000005")  # fmt: skip
        self.outsider = staff(Role.GRID_WORKER, t.grids[7], username="outsider",
                              email="outsider@grid.example", phone="13800000006")  # fmt: skip


@pytest.fixture
def world():
    return World()


def file(w: World, **overrides) -> Case:
    fields = {
        "actor": w.worker, "area": w.tree.grids[0], "category": w.category,
        "cause": "楼上卫生间漏水至楼下", "address": "民生路12号3单元502",
        "channel": Channel.GRID_WORKER, "parties": [{"side": "applicant", "name": "李秀英"}],
    }  # fmt: skip
    return services.case_file(**(fields | overrides))


def assign_case(w: World, case: Case, actor=None) -> Case:
    return services.case_assign(case=case, mediator=w.mediator, actor=actor or w.secretary)


def progress(w: World, case: Case) -> Case:
    return services.case_progress(case=case, actor=w.mediator, note="已上门了解情况")


def close(w: World, case: Case) -> Case:
    case = services.case_resolve(case=case, actor=w.mediator, outcome=Outcome.AGREEMENT)
    return services.case_close(case=case, actor=w.secretary)


def sql_colour(row) -> tuple[str, list[str]]:
    flags = (("past_close", row.sla_past_close), ("not_assigned", row.sla_not_assigned),
             ("not_handled", row.sla_not_handled))  # fmt: skip
    return row.sla_colour, [reason for reason, flag in flags if flag]


def colour(case: Case, now: datetime | None = None) -> tuple[str, list[str]]:
    """clock.evaluate on the stored row, checked against its SQL twin on the same row."""
    now = now or timezone.now()
    row = Case.objects.annotate_sla(now).get(pk=case.pk)
    assert sql_colour(row) == clock.evaluate(row, now)
    return clock.evaluate(row, now)


def kinds(case: Case) -> list[str]:
    return list(case.events.order_by("at", "id").values_list("kind", flat=True))


# --- colours and reasons ----------------------------------------------------------------------


def test_it_is_green_when_fresh(world):
    assert colour(file(world)) == (GREEN, [])


def test_it_turns_orange_when_not_assigned_within_24_hours(world, time_machine):
    case = file(world)
    time_machine.shift(24 * HOUR)
    assert colour(case) == (GREEN, [])
    time_machine.shift(SECOND)
    assert colour(case) == (ORANGE, ["not_assigned"])


def test_it_turns_orange_when_not_handled_24_hours_after_assignment(world, time_machine):
    case = file(world)
    time_machine.shift(5 * HOUR)
    case = assign_case(world, case)
    time_machine.shift(24 * HOUR)
    assert colour(case) == (GREEN, [])
    time_machine.shift(SECOND)
    assert colour(case) == (ORANGE, ["not_handled"])
    case = progress(world, case)
    assert colour(case) == (GREEN, [])


def test_it_turns_red_when_open_past_the_30_day_closing_deadline(world, time_machine):
    case = progress(world, assign_case(world, file(world)))
    time_machine.move_to(T0 + 30 * DAY)
    assert colour(case) == (GREEN, [])
    time_machine.shift(SECOND)
    assert colour(case) == (RED, ["past_close"])


@pytest.mark.parametrize("assigned", [False, True], ids=["not_assigned", "not_handled"])
def test_it_is_red_and_orange_together_with_the_red_reason_first(world, time_machine, assigned):
    case = file(world)
    if assigned:
        time_machine.shift(HOUR)
        case = assign_case(world, case)
    time_machine.move_to(T0 + 31 * DAY)
    assert colour(case) == (RED, ["past_close", "not_assigned" if not assigned else "not_handled"])


def test_it_is_green_once_closed_even_long_after_its_deadlines(world, time_machine):
    case = file(world)
    time_machine.shift(40 * HOUR)
    case = progress(world, assign_case(world, case))
    time_machine.move_to(T0 + 35 * DAY)
    assert colour(case) == (RED, ["past_close"])
    case = close(world, case)
    assert colour(case) == (GREEN, [])
    time_machine.shift(365 * DAY)
    assert colour(case) == (GREEN, [])


def test_it_stops_the_clock_while_paused_for_judicial_confirmation(world, time_machine):
    SlaPolicy.objects.create(code="judicial", name="司法确认", category=world.category,
                             pause_for_judicial_review=True, **BREACHES_ONLY)  # fmt: skip
    case = progress(world, assign_case(world, file(world)))
    time_machine.move_to(T0 + 20 * DAY)
    case = services.case_pause_clock(case=case, actor=world.mediator, note="已申请司法确认")
    assert case.sla_check.next_check_at is None  # nothing can be missed while the clock stands

    time_machine.move_to(T0 + 45 * DAY)  # past the original deadline, still paused
    assert colour(case) == (GREEN, [])
    case = services.case_resume_clock(case=case, actor=world.mediator, note="法院已确认")
    assert case.close_due_at == T0 + 55 * DAY  # 30 days plus the 25 days it stood still
    assert case.sla_check.next_check_at == case.close_due_at
    time_machine.move_to(T0 + 55 * DAY)
    assert colour(case) == (GREEN, [])
    time_machine.shift(SECOND)
    assert colour(case) == (RED, ["past_close"])
    assert kinds(case)[-2:] == [K.CLOCK_PAUSED, K.CLOCK_RESUMED]


def test_it_refuses_to_pause_a_clock_its_policy_keeps_running(world):
    case = progress(world, assign_case(world, file(world)))
    with pytest.raises(TransitionError):
        services.case_pause_clock(case=case, actor=world.mediator)


# --- the SQL twin -------------------------------------------------------------------------


def test_it_computes_the_same_colour_in_sql_as_in_python_for_every_case_and_time(
    world, time_machine
):
    SlaPolicy.objects.create(code="judicial", name="司法确认", category=world.other_category,
                             pause_for_judicial_review=True)  # fmt: skip
    at = lambda offset: time_machine.move_to(T0 + offset)  # noqa: E731
    fresh = file(world)
    grid_case = file(world, category=world.grid_category)
    late_assigned = file(world)
    on_time = file(world)
    handled = file(world)
    closed = file(world)
    withdrawn = file(world)
    paused = file(world, category=world.other_category)
    escalated = file(world)
    at(2 * HOUR)
    on_time = assign_case(world, on_time)
    handled = progress(world, assign_case(world, handled))
    closed = close(world, progress(world, assign_case(world, closed)))
    paused = progress(world, assign_case(world, paused))
    escalated = assign_case(world, escalated)
    at(3 * HOUR)
    paused = services.case_pause_clock(case=paused, actor=world.mediator)
    at(10 * HOUR)
    escalated = services.case_escalate(case=escalated, actor=world.secretary, reason="需街道")
    withdrawn = services.case_withdraw(case=withdrawn, actor=world.secretary, reason="已和解")
    at(30 * HOUR)
    late_assigned = assign_case(world, late_assigned)
    at(60 * HOUR)
    handled = services.case_progress(case=handled, actor=world.mediator, note="再次调解")
    cases = [fresh, grid_case, late_assigned, on_time, handled, closed, withdrawn, paused,
             escalated]  # fmt: skip

    rows = {c.pk: c for c in Case.objects.filter(pk__in=[c.pk for c in cases])}
    # Every deadline of every case, a second before, at and a second after it, and more.
    moments = {T0, T0 + 100 * DAY}
    for row in rows.values():
        for due in (row.assign_due_at, row.first_update_due_at, row.close_due_at):
            if due is not None:
                moments |= {due - SECOND, due, due + SECOND}
    seen = set()
    for now in sorted(moments):
        expected = {pk: clock.evaluate(row, now) for pk, row in rows.items()}
        annotated = Case.objects.filter(pk__in=rows).annotate_sla(now)
        assert {row.pk: sql_colour(row) for row in annotated} == expected, now
        for name in (GREEN, ORANGE, RED):
            wanted = {pk for pk, (c, _reasons) in expected.items() if c == name}
            assert set(annotated.filter(sla_colour=name).values_list("pk", flat=True)) == wanted
        rank = {RED: 0, ORANGE: 1, GREEN: 2}
        worst_first = sorted(rows, key=lambda pk: (rank[expected[pk][0]], pk))
        assert list(annotated.order_by("sla_rank", "pk").values_list("pk", flat=True)) == (
            worst_first
        )
        seen |= {c for c, _reasons in expected.values()}
    assert seen == {GREEN, ORANGE, RED}


# --- on-time flags ----------------------------------------------------------------------------


@pytest.mark.parametrize("after, on_time", [(24 * HOUR, True), (24 * HOUR + SECOND, False)])
def test_it_records_whether_the_assignment_was_on_time(world, time_machine, after, on_time):
    case = file(world)
    time_machine.shift(after)
    case = assign_case(world, case)
    case.refresh_from_db()
    assert case.assigned_on_time is on_time


@pytest.mark.parametrize("after, on_time", [(24 * HOUR, True), (24 * HOUR + SECOND, False)])
def test_it_records_whether_the_first_progress_was_on_time(world, time_machine, after, on_time):
    case = assign_case(world, file(world))
    time_machine.shift(after)
    case = progress(world, case)
    case.refresh_from_db()
    assert case.first_update_on_time is on_time
    assert case.assigned_on_time is True


@pytest.mark.parametrize("after, on_time", [(30 * DAY, True), (30 * DAY + SECOND, False)])
def test_it_records_whether_the_close_was_on_time_and_keeps_every_flag(
    world, time_machine, after, on_time
):
    case = progress(world, assign_case(world, file(world)))
    case = services.case_resolve(case=case, actor=world.mediator, outcome=Outcome.AGREEMENT)
    time_machine.move_to(T0 + after)
    case = services.case_close(case=case, actor=world.secretary)
    case.refresh_from_db()
    assert (case.assigned_on_time, case.first_update_on_time, case.closed_on_time) == (
        True, True, on_time,
    )  # fmt: skip


# --- policies -----------------------------------------------------------------------------------


def make_policies(w: World):
    policies = [
        ("leak-major", w.category, RiskLevel.MAJOR, 5),
        ("leak", w.category, "", 10),
        ("neighbours", w.neighbours, "", 12),  # a first-level type covers its sub-types
        ("major", None, RiskLevel.MAJOR, 15),
    ]
    for code, category, risk, days in policies:
        SlaPolicy.objects.create(code=code, name=code, category=category, risk_level=risk,
                                 close_within_days=days)  # fmt: skip


@pytest.mark.parametrize(
    "category, risk, expected, days",
    [
        ("category", RiskLevel.MAJOR, "leak-major", 5),  # type and risk
        ("category", RiskLevel.ORDINARY, "leak", 10),  # type
        ("grid_category", RiskLevel.MAJOR, "neighbours", 12),  # (parent) type beats risk
        ("other_category", RiskLevel.MAJOR, "major", 15),  # risk
        ("other_category", RiskLevel.ORDINARY, "default", 30),  # default
    ],
)
def test_it_picks_the_policy_that_fits_best(world, category, risk, expected, days):
    make_policies(world)
    case = file(world, category=getattr(world, category), risk_level=risk)
    case.refresh_from_db()
    assert case.sla_policy.code == expected
    assert case.close_due_at == T0 + days * DAY


def test_it_breaks_a_tie_between_policies_by_priority(world):
    SlaPolicy.objects.create(code="low", name="low", category=world.other_category,
                             close_within_days=20)  # fmt: skip
    SlaPolicy.objects.create(code="high", name="high", category=world.other_category,
                             close_within_days=7, priority=5)  # fmt: skip
    case = file(world, category=world.other_category)
    assert (case.sla_policy.code, case.close_due_at) == ("high", T0 + 7 * DAY)


def test_it_ignores_inactive_policies(world):
    SlaPolicy.objects.create(code="off", name="off", category=world.category,
                             close_within_days=3, is_active=False)  # fmt: skip
    assert file(world).sla_policy == world.policy


def test_it_keeps_each_case_on_the_policy_version_it_started_under(world, time_machine):
    v1 = SlaPolicy.objects.create(
        code="leak", version=1, name="漏水", category=world.category, assign_within_hours=12,
        first_update_within_hours=24, close_within_days=10,
    )  # fmt: skip
    old = file(world)
    # An admin edits the policy: the row in use is retired and the edit saved as version 2.
    SlaPolicy.objects.filter(pk=v1.pk).update(is_active=False)
    v2 = SlaPolicy.objects.create(
        code="leak", version=2, name="漏水", category=world.category, assign_within_hours=6,
        first_update_within_hours=4, close_within_days=5,
    )  # fmt: skip
    new = file(world)
    assert (old.sla_policy, old.assign_due_at, old.close_due_at) == (
        v1, T0 + 12 * HOUR, T0 + 10 * DAY,
    )  # fmt: skip
    assert (new.sla_policy, new.assign_due_at, new.close_due_at) == (
        v2, T0 + 6 * HOUR, T0 + 5 * DAY,
    )  # fmt: skip

    time_machine.shift(HOUR)
    old, new = assign_case(world, old), assign_case(world, new)
    assert old.first_update_due_at == T0 + HOUR + 24 * HOUR
    assert new.first_update_due_at == T0 + HOUR + 4 * HOUR
    time_machine.shift(HOUR)
    old = services.case_escalate(case=old, actor=world.secretary, reason="需街道协调")
    old.refresh_from_db()
    assert old.sla_policy == v1
    assert old.assign_due_at == T0 + 2 * HOUR + 12 * HOUR  # v1's limit at the new level
    assert old.close_due_at == T0 + 10 * DAY


def test_it_saves_an_admin_edit_of_a_policy_in_use_as_a_new_version(world, rf):
    from disputes.admin import SlaPolicyAdmin

    v1 = SlaPolicy.objects.create(code="leak", name="漏水", category=world.category,
                                  close_within_days=10)  # fmt: skip
    old = file(world)
    edited = SlaPolicy.objects.get(pk=v1.pk)
    edited.close_within_days = 5
    SlaPolicyAdmin(SlaPolicy, admin.site).save_model(rf.post("/"), edited, None, change=True)

    v1.refresh_from_db()
    assert (v1.close_within_days, v1.is_active) == (10, False)
    v2 = SlaPolicy.objects.get(code="leak", version=2)
    assert (v2.close_within_days, v2.is_active) == (5, True)
    old.refresh_from_db()
    assert (old.sla_policy, old.close_due_at) == (v1, T0 + 10 * DAY)
    new = file(world)
    assert (new.sla_policy, new.close_due_at) == (v2, T0 + 5 * DAY)


# --- extensions ---------------------------------------------------------------------------------


def request_extension(w: World, case: Case, days: int = 10):
    return services.extension_request(case=case, actor=w.mediator, days=days,
                                      reason="等待房屋质量鉴定结果")  # fmt: skip


def test_it_moves_the_closing_deadline_when_an_extension_is_approved(world, time_machine):
    case = progress(world, assign_case(world, file(world)))
    time_machine.move_to(T0 + 20 * DAY)
    request = request_extension(world, case)
    services.extension_decide(extension=request, actor=world.street, approve=True, note="同意")

    case.refresh_from_db()
    request.refresh_from_db()
    assert case.close_due_at == T0 + 40 * DAY
    assert case.sla_check.next_check_at == T0 + 40 * DAY
    assert (request.status, request.old_close_due_at, request.new_close_due_at) == (
        "approved", T0 + 30 * DAY, T0 + 40 * DAY,
    )  # fmt: skip
    assert kinds(case)[-2:] == [K.EXTENSION_REQUESTED, K.EXTENSION_APPROVED]
    approved = case.events.get(kind=K.EXTENSION_APPROVED)
    assert (approved.actor, approved.data["days"]) == (world.street, 10)
    assert colour(case, T0 + 30 * DAY + SECOND) == (GREEN, [])
    assert colour(case, T0 + 40 * DAY + SECOND) == (RED, ["past_close"])


def test_it_keeps_the_closing_deadline_when_an_extension_is_refused(world, time_machine):
    case = progress(world, assign_case(world, file(world)))
    time_machine.move_to(T0 + 20 * DAY)
    request = request_extension(world, case)
    services.extension_decide(extension=request, actor=world.street, approve=False,
                              note="理由不充分")  # fmt: skip

    case.refresh_from_db()
    request.refresh_from_db()
    assert case.close_due_at == T0 + 30 * DAY
    assert request.status == "refused"
    assert kinds(case)[-2:] == [K.EXTENSION_REQUESTED, K.EXTENSION_REFUSED]
    assert colour(case, T0 + 30 * DAY + SECOND) == (RED, ["past_close"])


def test_it_lets_only_the_level_above_decide_an_extension(world):
    case = progress(world, assign_case(world, file(world)))
    request = request_extension(world, case)
    for person in (world.secretary, world.mediator, world.outsider):
        with pytest.raises(PermissionDenied):
            services.extension_decide(extension=request, actor=person, approve=True)
    case.refresh_from_db()
    assert case.close_due_at == T0 + 30 * DAY


def test_it_tells_the_level_above_of_a_request_and_the_requester_of_the_decision(world):
    case = progress(world, assign_case(world, file(world)))
    request = request_extension(world, case)

    (asked,) = Notification.objects.filter(kind="extension_requested")
    assert (asked.recipient, asked.case, asked.body) == (world.street, case, "等待房屋质量鉴定结果")
    assert case.number in asked.title and "10" in asked.title

    services.extension_decide(extension=request, actor=world.street, approve=False,
                              note="理由不充分")  # fmt: skip
    (told,) = Notification.objects.filter(kind="extension_refused")
    assert (told.recipient, told.body) == (world.mediator, "理由不充分")
    assert not Notification.objects.filter(kind="extension_approved").exists()


def test_it_records_a_missed_closing_deadline_before_an_extension_moves_it(world, time_machine):
    """The sweep was down when the deadline passed; approving an extension afterwards must
    not erase the breach: it is recorded once, at the deadline, and the case turns green."""
    case = progress(world, assign_case(world, file(world)))
    request = request_extension(world, case)
    time_machine.move_to(T0 + 31 * DAY)  # no sweep ran meanwhile
    services.extension_decide(extension=request, actor=world.street, approve=True)

    case.refresh_from_db()
    breach = case.events.get(kind=K.SLA_BREACH)
    assert (breach.data["reason"], breach.at) == ("past_close", T0 + 30 * DAY)
    assert case.close_due_at == T0 + 40 * DAY
    assert not case.sla_check.breached_close  # the new deadline can be missed again
    assert case.sla_check.next_check_at == T0 + 40 * DAY
    assert colour(case) == (GREEN, [])
    assert sla_sweep_step().breaches == 0  # nothing left to catch up on
    assert not Notification.objects.filter(kind__startswith="sla_").exists()


def test_it_gives_a_case_reopened_after_an_on_time_close_a_fresh_closing_period(
    world, time_machine
):
    case = close(world, progress(world, assign_case(world, file(world))))
    assert case.closed_on_time
    time_machine.move_to(T0 + 45 * DAY)  # long after the first closing deadline
    case = services.case_reopen(case=case, actor=world.secretary, reason="当事人反映未履行")

    case.refresh_from_db()
    assert case.close_due_at == T0 + 75 * DAY
    assert colour(case) == (GREEN, [])
    event = case.events.get(kind=K.REOPENED)
    recorded = {key: datetime.fromisoformat(value) for key, value in event.data.items()}
    assert recorded == {"close_due_at": T0 + 75 * DAY, "previous_close_due_at": T0 + 30 * DAY}
    assert sla_sweep_step().breaches == 0
    assert colour(case, T0 + 75 * DAY + SECOND) == (RED, ["past_close"])


def test_it_keeps_a_late_close_on_record_when_the_case_is_reopened(world, time_machine):
    case = progress(world, assign_case(world, file(world)))
    time_machine.move_to(T0 + 32 * DAY)  # closed late, and no sweep ran meanwhile
    case = close(world, case)
    case = services.case_reopen(case=case, actor=world.secretary, reason="当事人反映未履行")

    breach = case.events.get(kind=K.SLA_BREACH)
    assert (breach.data["reason"], breach.at) == ("past_close", T0 + 30 * DAY)
    assert sla_sweep_step().breaches == 0  # recorded once


# --- working days -------------------------------------------------------------------------------


def workday_policy(w: World, days: int = 3) -> SlaPolicy:
    return SlaPolicy.objects.create(
        code=f"wd{days}", name=f"{days}个工作日办结", category=w.category,
        time_basis=TimeBasis.WORKDAYS, close_within_days=days, **BREACHES_ONLY,
    )  # fmt: skip


def test_the_statutory_calendar_has_national_day_2026_with_a_make_up_saturday():
    # The premise of the next test, straight from the chinese-calendar package.
    assert chinese_calendar.is_workday(date(2026, 9, 30))
    assert not any(chinese_calendar.is_workday(date(2026, 10, d)) for d in range(1, 8))
    assert chinese_calendar.is_workday(date(2026, 10, 8))
    assert date(2026, 10, 10).weekday() == 5 and chinese_calendar.is_workday(date(2026, 10, 10))
    assert not chinese_calendar.is_workday(date(2026, 10, 11))


@pytest.mark.parametrize(
    "override, due_day",
    [
        (None, date(2026, 10, 10)),  # 8 (Thu), 9 (Fri), 10 (the make-up Saturday)
        # A local exception entered by an admin wins over the package: no make-up day here.
        ((date(2026, 10, 10), False), date(2026, 10, 12)),
    ],
)
def test_it_counts_working_days_across_national_day(world, time_machine, override, due_day):
    if override:
        CalendarDay.objects.create(date=override[0], is_workday=override[1], name="本地调整")
    policy = workday_policy(world)
    time_machine.move_to(datetime(2026, 9, 30, 10, 0, tzinfo=SH))
    case = file(world)

    assert case.sla_policy == policy
    due = datetime.combine(due_day, time(10), tzinfo=SH)
    assert case.close_due_at == due
    assert case.assign_due_at == datetime(2026, 10, 8, 10, 0, tzinfo=SH)  # one working day
    assert colour(case, datetime(2026, 10, 7, 23, 0, tzinfo=SH)) == (GREEN, [])
    assert colour(case, due - SECOND)[0] == ORANGE  # not assigned, but not red yet
    assert colour(case, due + SECOND)[0] == RED


@pytest.mark.parametrize(
    "days, due_day",
    [
        ([], date(2028, 1, 10)),  # Monday–Friday: Thu 6, Fri 7, Mon 10
        ([(date(2028, 1, 6), False)], date(2028, 1, 11)),  # a holiday: Fri 7, Mon 10, Tue 11
        # … with a make-up Saturday: Fri 7, Sat 8, Mon 10
        ([(date(2028, 1, 6), False), (date(2028, 1, 8), True)], date(2028, 1, 10)),
        ([(date(2028, 1, 6), False), (date(2028, 1, 9), True)], date(2028, 1, 10)),  # Sunday
        ([(date(2028, 1, 7), True), (date(2028, 1, 8), True)], date(2028, 1, 8)),  # Sat works
    ],
)
def test_it_honours_admin_calendar_days_for_a_year_the_package_does_not_know(
    world, time_machine, days, due_day
):
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2028, 1, 5))
    for day, is_workday in days:
        CalendarDay.objects.create(date=day, is_workday=is_workday, name="2028年元旦调休")
    workday_policy(world)
    time_machine.move_to(datetime(2028, 1, 5, 10, 0, tzinfo=SH))  # a Wednesday
    case = file(world)
    assert case.close_due_at == datetime.combine(due_day, time(10), tzinfo=SH)


# --- escalation ---------------------------------------------------------------------------------


def notified(kind: str) -> set:
    return {n.recipient for n in Notification.objects.filter(kind=kind)}


def test_it_escalates_by_hand_from_the_community_to_the_street(world, time_machine):
    case = progress(world, assign_case(world, file(world)))
    time_machine.shift(3 * DAY)
    case = services.case_escalate(case=case, actor=world.secretary, reason="分歧大，需街道协调")

    case.refresh_from_db()
    street = world.tree.streets[0]
    assert (case.handling_level, case.handling_area, case.status) == ("street", street, S.FILED)
    assert (case.mediator, case.assigned_at, case.first_update_due_at) == (None, None, None)
    assert list(case.assistants.all()) == [world.mediator]  # the previous mediator stays on
    assert case.close_due_at == T0 + 30 * DAY  # the closing deadline is kept
    assert case.assign_due_at == T0 + 3 * DAY + 24 * HOUR  # a new one to assign by
    assert case.sla_check.next_check_at == case.assign_due_at
    event = case.events.get(kind=K.ESCALATED)
    assert (event.actor, event.from_status, event.to_status) == (
        world.secretary, S.IN_MEDIATION, S.FILED,
    )  # fmt: skip
    assert event.data == {"from": world.tree.communities[0].name, "to": street.name,
                          "level": "street"}  # fmt: skip
    assert notified("escalated") == {world.street}
    assert colour(case) == (GREEN, [])


def test_it_times_the_first_handling_again_at_the_level_a_case_escalates_to(world, time_machine):
    """The community mediator had handled it; the street's mediator must still give a first
    update within 24 hours of being assigned."""
    case = progress(world, assign_case(world, file(world)))
    time_machine.shift(3 * DAY)
    case = services.case_escalate(case=case, actor=world.secretary, reason="分歧大，需街道协调")
    street_mediator = staff(Role.MEDIATOR, world.tree.streets[0], username="street_mediator")
    case = services.case_assign(case=case, mediator=street_mediator, actor=world.street)

    case.refresh_from_db()
    assert case.first_progress_at is None
    assert case.first_update_due_at == T0 + 3 * DAY + 24 * HOUR
    assert case.sla_check.next_check_at == case.first_update_due_at
    assert colour(case, T0 + 4 * DAY + SECOND) == (ORANGE, ["not_handled"])
    services.case_progress(case=case, actor=street_mediator, note="街道调解员已联系双方")
    case.refresh_from_db()
    assert case.first_update_on_time and colour(case) == (GREEN, [])


@pytest.mark.parametrize(
    "risk, level", [(RiskLevel.MAJOR, "street"), (RiskLevel.SERIOUS, "district")]
)
def test_it_moves_a_case_up_when_its_risk_is_raised(world, time_machine, risk, level):
    case = assign_case(world, file(world))
    policy = case.sla_policy
    time_machine.shift(2 * HOUR)
    case = services.case_raise_risk(case=case, actor=world.secretary, risk_level=risk,
                                    reason="涉及人数增至30人")  # fmt: skip

    case.refresh_from_db()
    area = world.tree.streets[0] if level == "street" else world.tree.district
    assert (case.risk_level, case.handling_level, case.handling_area) == (risk, level, area)
    assert (case.status, case.mediator) == (S.FILED, None)
    assert list(case.assistants.all()) == [world.mediator]
    assert (case.close_due_at, case.sla_policy) == (T0 + 30 * DAY, policy)
    assert case.assign_due_at == T0 + 2 * HOUR + 24 * HOUR
    assert kinds(case)[-2:] == [K.RISK_RAISED, K.ESCALATED]
    assert notified("escalated") == {world.street if level == "street" else world.district}


def auto_policy(w: World, **extra) -> SlaPolicy:
    extra = BREACHES_ONLY | extra
    return SlaPolicy.objects.create(code="auto", name="超期自动上报", category=w.category,
                                    auto_escalate_on_red=True, **extra)  # fmt: skip


def test_it_escalates_a_red_case_automatically_when_its_policy_says_so(world, time_machine):
    policy = auto_policy(world)
    case = progress(world, assign_case(world, file(world)))
    assert case.sla_policy == policy
    time_machine.move_to(T0 + 30 * DAY + 5 * 60 * SECOND)

    result = sla_sweep_step()

    case.refresh_from_db()
    assert (result.checked, result.breaches) == (1, 1)
    breach = case.events.get(kind=K.SLA_BREACH)
    assert (breach.at, breach.data["reason"], breach.actor) == (T0 + 30 * DAY, "past_close", None)
    escalated = case.events.get(kind=K.ESCALATED)
    assert (escalated.actor, escalated.data["level"]) == (None, "street")
    assert (case.handling_level, case.handling_area) == ("street", world.tree.streets[0])
    assert (case.status, case.mediator) == (S.FILED, None)
    assert list(case.assistants.all()) == [world.mediator]
    assert case.close_due_at == T0 + 30 * DAY
    assert case.assign_due_at == timezone.now() + 24 * HOUR
    assert case.sla_check.breached_close and case.sla_check.next_check_at == case.assign_due_at
    assert colour(case) == (RED, ["past_close"])  # still past its (kept) closing deadline
    assert notified("sla_past_close") == {world.street}
    assert notified("escalated") == {world.street}
    assert sla_sweep_step().checked == 0
    # The new level misses its own assignment deadline: recorded once, at that deadline.
    time_machine.move_to(case.assign_due_at + SECOND)
    assert sla_sweep_step().breaches == 1
    assert case.events.filter(kind=K.SLA_BREACH).count() == 2
    assert case.events.filter(kind=K.ESCALATED).count() == 1  # red already: no second escalation


def test_it_does_not_escalate_a_red_case_unless_its_policy_says_so(world, time_machine):
    case = progress(world, assign_case(world, file(world)))
    time_machine.move_to(T0 + 31 * DAY)
    assert sla_sweep_step().breaches == 1
    case.refresh_from_db()
    assert (case.handling_level, case.mediator, case.status) == (
        "community", world.mediator, S.IN_MEDIATION,
    )  # fmt: skip
    assert not case.events.filter(kind=K.ESCALATED).exists()


def test_it_records_red_at_the_top_level_without_escalating(world, time_machine):
    auto_policy(world, risk_level=RiskLevel.SERIOUS)
    case = file(world, risk_level=RiskLevel.SERIOUS)
    assert case.handling_level == "district"
    case = services.case_assign(case=case, mediator=world.mediator, actor=world.district)
    case = progress(world, case)
    time_machine.move_to(T0 + 31 * DAY)

    assert sla_sweep_step().breaches == 1

    case.refresh_from_db()
    assert (case.handling_level, case.status, case.mediator) == (
        "district", S.IN_MEDIATION, world.mediator,
    )  # fmt: skip
    assert not case.events.filter(kind=K.ESCALATED).exists()
    assert notified("sla_past_close") == {world.district}  # no level above: its own queue

"""The "13710" colours: assign within 24 h, first progress within 24 h of assignment, close
within 30 days; `clock.evaluate` is a pure function of the stored deadlines and the clock."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from disputes import services
from disputes.models import Category, Channel, HandlingLevel, Outcome
from grids.models import Role
from sla import clock
from sla.models import SlaPolicy
from tests.factories import Tree, UserFactory, assign

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(T0, tick=False)


class World:
    def __init__(self):
        t = Tree()
        parent = Category.objects.create(code="02", name="邻里纠纷")
        self.category = Category.objects.create(
            code="0203", name="房屋漏水", parent=parent,
            default_handling_level=HandlingLevel.COMMUNITY,
        )  # fmt: skip
        self.area = t.grids[0]
        self.worker = UserFactory()  # the responsible grid worker
        assign(self.worker, Role.GRID_WORKER, t.grids[0])
        self.secretary = UserFactory()  # the centre staff above them
        assign(self.secretary, Role.COMMUNITY_SECRETARY, t.communities[0])
        self.mediator = UserFactory()
        assign(self.mediator, Role.MEDIATOR, t.communities[0])

    def file(self):
        return services.case_file(
            actor=self.worker, area=self.area, category=self.category, cause="漏水",
            address="民生路12号", channel=Channel.GRID_WORKER,
            parties=[{"side": "applicant", "name": "李秀英"}],
        )  # fmt: skip

    def assign(self, case):
        return services.case_assign(case=case, mediator=self.mediator, actor=self.secretary)


@pytest.fixture
def world():
    return World()


def colour(case):
    return clock.evaluate(case, timezone.now())


def test_it_stores_the_deadlines_when_a_case_is_filed(world):
    case = world.file()
    case.refresh_from_db()
    assert case.assign_due_at == T0 + timedelta(hours=24)
    assert case.close_due_at == T0 + timedelta(days=30)


def test_it_files_with_the_built_in_limits_when_no_policy_applies(world):
    # An admin may switch every policy off; filing must go on under the built-in "13710".
    SlaPolicy.objects.update(is_active=False)
    case = world.file()
    case.refresh_from_db()
    assert case.sla_policy is None
    assert case.assign_due_at == T0 + timedelta(hours=24)
    assert case.close_due_at == T0 + timedelta(days=30)


def test_it_is_green_when_fresh(world):
    assert colour(world.file()) == (clock.GREEN, [])


def test_it_stays_green_up_to_the_assignment_deadline(world, time_machine):
    case = world.file()
    time_machine.shift(timedelta(hours=24))
    assert colour(case) == (clock.GREEN, [])


def test_it_turns_orange_when_not_assigned_within_24_hours(world, time_machine):
    case = world.file()
    time_machine.shift(timedelta(hours=24) + SECOND)
    assert colour(case) == (clock.ORANGE, ["not_assigned"])


def test_it_stays_green_when_assigned_in_time(world, time_machine):
    case = world.file()
    time_machine.shift(timedelta(hours=23))
    case = world.assign(case)
    time_machine.shift(timedelta(hours=2))  # 25 h after filing, 2 h after assignment
    assert colour(case) == (clock.GREEN, [])


def test_it_clears_not_assigned_once_a_late_case_is_assigned(world, time_machine):
    case = world.file()
    time_machine.shift(timedelta(hours=30))
    assert colour(case) == (clock.ORANGE, ["not_assigned"])
    case = world.assign(case)
    assert colour(case) == (clock.GREEN, [])


def test_it_turns_orange_when_not_handled_24_hours_after_assignment(world, time_machine):
    case = world.file()
    time_machine.shift(timedelta(hours=2))
    case = world.assign(case)
    time_machine.shift(timedelta(hours=24))
    assert colour(case) == (clock.GREEN, [])
    time_machine.shift(SECOND)
    assert colour(case) == (clock.ORANGE, ["not_handled"])


def test_it_turns_green_again_after_the_first_progress(world, time_machine):
    case = world.assign(world.file())
    time_machine.shift(2 * DAY)
    assert colour(case) == (clock.ORANGE, ["not_handled"])
    case = services.case_progress(case=case, actor=world.mediator, note="已上门")
    assert colour(case) == (clock.GREEN, [])


def test_it_turns_red_past_the_closing_deadline(world, time_machine):
    case = services.case_progress(case=world.assign(world.file()), actor=world.mediator, note="x")
    time_machine.shift(30 * DAY)
    assert colour(case) == (clock.GREEN, [])
    time_machine.shift(SECOND)
    assert colour(case) == (clock.RED, ["past_close"])


def test_it_turns_red_before_orange_when_both_apply(world, time_machine):
    case = world.file()
    time_machine.shift(31 * DAY)
    assert colour(case) == (clock.RED, ["past_close", "not_assigned"])


@pytest.mark.parametrize("stage", ["closed", "resolved", "withdrawn", "referred"])
def test_it_is_green_once_the_case_has_left_the_open_states(world, time_machine, stage):
    case = world.file()
    if stage == "withdrawn":
        case = services.case_withdraw(case=case, actor=world.worker, reason="已和解")
    else:
        case = services.case_progress(case=world.assign(case), actor=world.mediator, note="x")
        if stage == "referred":
            case = services.case_refer(
                case=case, actor=world.mediator, kind="litigation", note="起诉"
            )
        else:
            case = services.case_resolve(case=case, actor=world.mediator, outcome=Outcome.AGREEMENT)
            if stage == "closed":
                case = services.case_close(case=case, actor=world.secretary)
    time_machine.shift(60 * DAY)
    assert colour(case) == (clock.GREEN, [])


def test_it_has_a_label_for_every_reason_and_colour():
    assert set(clock.REASONS) == {"not_assigned", "not_handled", "past_close"}
    assert set(clock.COLOUR_LABELS) == {clock.GREEN, clock.ORANGE, clock.RED}

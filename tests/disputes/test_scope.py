"""Who sees which cases (`Case.objects.visible_to`), who sees the parties' phone and ID
numbers (`permissions.sees_party_details`), and how a moved area carries its cases along."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import AnonymousUser

from disputes import permissions, services
from disputes.models import Case, Category, Channel, HandlingLevel, ReferralKind, RiskLevel
from grids.models import Role, User
from grids.services import area_move
from tests.factories import DepartmentFactory, SuperuserFactory, Tree, UserFactory, assign

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(T0, tick=False)


def staff(role: str, area=None, department=None, **assignment) -> User:
    person = UserFactory()
    assign(person, role, area=area, department=department, **assignment)
    return person


def fresh(user: User) -> User:
    """The same person without the scope cached on the object by an earlier call."""
    return User.objects.get(pk=user.pk)


class World:
    """district → 2 streets → 2 communities each → 2 grids each → 2 micro-grids each, staff at
    every level, and one case filed in each of several places."""

    def __init__(self):
        self.tree = t = Tree()
        self.department = DepartmentFactory(name="区人社局")
        parent = Category.objects.create(code="02", name="邻里纠纷")
        self.grid_type = Category.objects.create(
            code="0201", name="楼道堆物", parent=parent, default_handling_level=HandlingLevel.GRID
        )
        self.community_type = Category.objects.create(
            code="0203", name="房屋漏水", parent=parent,
            default_handling_level=HandlingLevel.COMMUNITY,
        )  # fmt: skip
        self.led_type = Category.objects.create(
            code="1001", name="拖欠工资", parent=parent, lead_department=self.department
        )
        self.worker = staff(Role.GRID_WORKER, t.grids[0])
        self.neighbour = staff(Role.GRID_WORKER, t.grids[1])  # same community, another grid
        self.worker_c2 = staff(Role.GRID_WORKER, t.grids[2])  # another community, same street
        self.worker_s2 = staff(Role.GRID_WORKER, t.grids[4])  # another street
        self.worker_c4 = staff(Role.GRID_WORKER, t.grids[6])
        self.micro_head = staff(Role.MICRO_GRID_HEAD, t.micro_grids[0])
        self.secretary = staff(Role.COMMUNITY_SECRETARY, t.communities[0])
        self.mediator = staff(Role.MEDIATOR, t.communities[0])
        self.judge = staff(Role.JUDGE, t.communities[0])
        self.mediator_c2 = staff(Role.MEDIATOR, t.communities[1])
        self.secretary_c2 = staff(Role.COMMUNITY_SECRETARY, t.communities[1])
        self.secretary_c3 = staff(Role.COMMUNITY_SECRETARY, t.communities[2])
        self.street = staff(Role.STREET_STAFF, t.streets[0])
        self.street_s2 = staff(Role.STREET_STAFF, t.streets[1])
        self.district = staff(Role.DISTRICT_STAFF, t.district)
        self.liaison = staff(Role.DEPARTMENT_LIAISON, department=self.department)
        self.superuser = SuperuserFactory()
        self.outsider = UserFactory()

        self.cases = {
            "in_micro_grid": self.file(self.micro_head, t.micro_grids[0]),
            "in_grid": self.file(self.worker, t.grids[0]),
            "in_neighbour_grid": self.file(self.neighbour, t.grids[1]),
            "in_other_community": self.file(self.worker_c2, t.grids[2]),
            "in_other_street": self.file(self.worker_s2, t.grids[4]),
            "led_by_department": self.file(self.worker_c4, t.grids[6], category=self.led_type),
        }

    def file(self, actor, area, **extra) -> Case:
        fields = {
            "actor": actor,
            "area": area,
            "category": self.grid_type,
            "cause": "楼道堆放纸箱",
            "address": "民生路12号",
            "channel": Channel.GRID_WORKER,
            "parties": [{"side": "applicant", "name": "赵大妈", "phone": "13800001111"}],
        }
        return services.case_file(**(fields | extra))


@pytest.fixture
def world():
    return World()


def visible(user) -> set[int]:
    return set(Case.objects.visible_to(fresh(user)).values_list("pk", flat=True))


def cases(w: World, *names: str) -> set[int]:
    return {w.cases[name].pk for name in names}


EVERYTHING = (
    "in_micro_grid",
    "in_grid",
    "in_neighbour_grid",
    "in_other_community",
    "in_other_street",
    "led_by_department",
)
COMMUNITY_1 = ("in_micro_grid", "in_grid", "in_neighbour_grid")

SCOPES = [
    ("worker", ("in_micro_grid", "in_grid")),  # own grid and its micro-grids only
    ("micro_head", ("in_micro_grid",)),  # own micro-grid only
    ("secretary", COMMUNITY_1),
    ("mediator", COMMUNITY_1),
    ("judge", COMMUNITY_1),
    ("street", (*COMMUNITY_1, "in_other_community")),
    ("district", EVERYTHING),
    ("liaison", ("led_by_department",)),  # led by their department, nothing else
    ("superuser", EVERYTHING),
    ("outsider", ()),
]


@pytest.mark.parametrize("user, expected", SCOPES, ids=[user for user, _ in SCOPES])
def test_it_shows_each_role_exactly_the_cases_in_its_scope(world, user, expected):
    assert visible(getattr(world, user)) == cases(world, *expected)


def test_it_shows_an_anonymous_user_nothing(world):
    assert not Case.objects.visible_to(AnonymousUser()).exists()


def test_it_shows_nothing_once_an_assignment_has_ended(world):
    former = staff(
        Role.COMMUNITY_SECRETARY, world.tree.communities[0],
        started_at=T0 - timedelta(days=300), ended_at=T0 - timedelta(days=1),
    )  # fmt: skip
    assert visible(former) == set()


def test_it_shows_a_filer_their_own_case_outside_their_scope(world):
    case = world.file(world.secretary, world.tree.grids[1])
    moved_on = fresh(world.secretary)
    moved_on.assignments.update(ended_at=T0)
    assert visible(moved_on) == {case.pk}


def test_it_shows_a_case_to_a_mediator_and_assistant_from_another_community(world):
    # A major dispute goes to the street, which may pick mediators from any of its communities.
    case = world.file(
        world.worker, world.tree.grids[0], category=world.community_type,
        risk_level=RiskLevel.MAJOR,
    )  # fmt: skip
    assert case.pk not in visible(world.mediator_c2)
    assert case.pk not in visible(world.worker_c2)

    services.case_assign(
        case=case, mediator=world.mediator_c2, assistants=[world.worker_c2], actor=world.street
    )

    in_their_community = world.cases["in_other_community"].pk
    assert visible(world.mediator_c2) == {case.pk, in_their_community}
    assert visible(world.worker_c2) == {case.pk, in_their_community}
    assert case.pk not in visible(world.secretary_c2)  # their community still does not


def test_it_shows_a_department_liaison_a_case_referred_to_it(world):
    case = world.cases["in_grid"]
    assert case.pk not in visible(world.liaison)
    services.case_refer(
        case=case, actor=world.worker, kind=ReferralKind.DEPARTMENT,
        department=world.department, note="转人社局",
    )  # fmt: skip
    assert visible(world.liaison) == cases(world, "in_grid", "led_by_department")


def test_it_lists_a_case_with_several_assistants_once(world):
    case = world.cases["in_grid"]
    services.case_assign(
        case=case, mediator=world.worker, actor=world.worker,
        assistants=[world.mediator, world.judge, world.street],
    )  # fmt: skip
    for user in (world.secretary, world.street, world.district, world.judge):
        listed = list(Case.objects.visible_to(fresh(user)).values_list("pk", flat=True))
        assert len(listed) == len(set(listed))
        assert Case.objects.visible_to(fresh(user)).filter(pk=case.pk).count() == 1


# --- party details -------------------------------------------------------------------------

# A grid-level case filed by the micro-grid head, run by the grid's worker.
GRID_CASE_DETAILS = [
    ("micro_head", True),  # the filer
    ("worker", True),  # runs the grid's queue
    ("secretary", True),
    ("mediator", True),  # mediators run the community queue above the grid
    ("street", True),
    ("district", True),
    ("superuser", True),
    ("neighbour", False),  # another grid's worker
    ("judge", False),  # in scope, but not handling this case
    ("liaison", False),
    ("street_s2", False),
    ("outsider", False),
]


@pytest.mark.parametrize("user, sees", GRID_CASE_DETAILS, ids=[u for u, _ in GRID_CASE_DETAILS])
def test_it_shows_party_details_to_the_filer_handlers_and_managers_only(world, user, sees):
    case = world.cases["in_micro_grid"]
    assert permissions.sees_party_details(fresh(getattr(world, user)), case) is sees


# A community-level case filed by the grid worker.
COMMUNITY_CASE_DETAILS = [
    ("worker", True),  # the filer
    ("secretary", True),
    ("mediator", True),
    ("street", True),
    ("neighbour", False),
    ("micro_head", False),
    ("judge", False),
    ("secretary_c2", False),
    ("mediator_c2", False),
]


@pytest.mark.parametrize(
    "user, sees", COMMUNITY_CASE_DETAILS, ids=[u for u, _ in COMMUNITY_CASE_DETAILS]
)
def test_it_shows_party_details_of_a_community_case_to_its_managers(world, user, sees):
    case = world.file(world.worker, world.tree.grids[0], category=world.community_type)
    assert permissions.sees_party_details(fresh(getattr(world, user)), case) is sees


def test_it_shows_party_details_to_the_assigned_mediator_and_assistants(world):
    case = world.file(world.worker, world.tree.grids[0], category=world.community_type)
    assert not permissions.sees_party_details(fresh(world.judge), case)
    services.case_assign(
        case=case, mediator=world.judge, assistants=[world.neighbour], actor=world.secretary
    )
    case = Case.objects.get(pk=case.pk)
    assert permissions.sees_party_details(fresh(world.judge), case)
    assert permissions.sees_party_details(fresh(world.neighbour), case)
    assert not permissions.sees_party_details(fresh(world.micro_head), case)


# --- moving areas ----------------------------------------------------------------------------


def ancestors(case: Case):
    case.refresh_from_db()
    return (case.district_id, case.street_id, case.community_id, case.grid_id)


def test_it_moves_a_grids_cases_to_its_new_community(world):
    t = world.tree
    area_move(area=t.grids[0], new_parent=t.communities[2])  # another street's community
    for name in ("in_micro_grid", "in_grid"):
        assert ancestors(world.cases[name]) == (
            t.district.pk,
            t.streets[1].pk,
            t.communities[2].pk,
            t.grids[0].pk,
        )
    assert ancestors(world.cases["in_neighbour_grid"]) == (
        t.district.pk,
        t.streets[0].pk,
        t.communities[0].pk,
        t.grids[1].pk,
    )


def test_it_hands_a_moved_grids_cases_to_the_new_communitys_staff(world):
    t = world.tree
    area_move(area=t.grids[0], new_parent=t.communities[2])
    moved = cases(world, "in_micro_grid", "in_grid")
    assert moved <= visible(world.secretary_c3)
    assert moved <= visible(world.street_s2)
    assert not moved & visible(world.street)
    assert visible(world.secretary) == cases(world, "in_neighbour_grid")
    assert visible(world.worker) == moved  # the grid worker moves with the grid


def test_it_moves_a_communitys_cases_to_its_new_street(world):
    t = world.tree
    area_move(area=t.communities[0], new_parent=t.streets[1])
    for name in COMMUNITY_1:
        _district, street, community, _grid = ancestors(world.cases[name])
        assert (street, community) == (t.streets[1].pk, t.communities[0].pk)
    assert ancestors(world.cases["in_other_community"])[1] == t.streets[0].pk


def test_it_moves_a_micro_grids_cases_to_its_new_grid(world):
    t = world.tree
    area_move(area=t.micro_grids[0], new_parent=t.grids[2])
    assert ancestors(world.cases["in_micro_grid"]) == (
        t.district.pk,
        t.streets[0].pk,
        t.communities[1].pk,
        t.grids[2].pk,
    )
    assert ancestors(world.cases["in_grid"])[2:] == (t.communities[0].pk, t.grids[0].pk)

"""Where a new case goes: "small matters stay in the grid, big ones in the community, hard
ones in the street". The category decides the ordinary level and the lead department; the
risk level moves the case up."""

import pytest
from django.core.exceptions import PermissionDenied

from disputes import services
from disputes.models import Category, Channel, HandlingLevel, RiskLevel
from disputes.routing import ancestor_ids, route
from grids.models import AreaLevel, Role
from tests.factories import DepartmentFactory, Tree, UserFactory, assign, make_area

pytestmark = pytest.mark.django_db

H = HandlingLevel


class World:
    def __init__(self):
        self.tree = t = Tree()
        # Shapes seen in Zhengzhou and Guangming: a grid straight under a street, and a
        # dedicated (school) grid with its own micro-grid.
        self.street_grid = make_area(AreaLevel.GRID, t.streets[1], name="街道直属网格")
        self.school = make_area(
            AreaLevel.DEDICATED, t.communities[0], name="小学专属网格", dedicated_kind="school"
        )
        self.school_floor = make_area(AreaLevel.MICRO_GRID, self.school, name="教学楼")
        self.labour = DepartmentFactory(name="区人社局")
        self.housing = DepartmentFactory(name="区住建委")
        labour_disputes = Category.objects.create(
            code="10", name="劳动争议", lead_department=self.labour
        )
        neighbours = Category.objects.create(code="02", name="邻里纠纷")
        self.grid_type = Category.objects.create(
            code="0201", name="楼道堆物", parent=neighbours, default_handling_level=H.GRID
        )
        self.community_type = Category.objects.create(
            code="0203", name="房屋漏水", parent=neighbours, default_handling_level=H.COMMUNITY,
            lead_department=self.housing,
        )  # fmt: skip
        self.wages = Category.objects.create(
            code="1001", name="拖欠工资", parent=labour_disputes, default_handling_level=H.COMMUNITY
        )
        self.delivery = Category.objects.create(
            code="0301", name="房屋交付延期", parent=neighbours, default_risk=RiskLevel.MAJOR,
            default_handling_level=H.STREET, lead_department=self.housing,
        )  # fmt: skip
        self.worker = UserFactory()
        assign(self.worker, Role.GRID_WORKER, t.grids[0])
        self.street_staff = UserFactory()
        assign(self.street_staff, Role.STREET_STAFF, t.streets[1])


@pytest.fixture
def world():
    return World()


# (category, risk, where filed) → (handling level, handling area)
ROUTES = [
    ("grid_type", RiskLevel.ORDINARY, "grid", H.GRID, "grid"),
    ("grid_type", RiskLevel.ORDINARY, "micro_grid", H.GRID, "grid"),
    ("community_type", RiskLevel.ORDINARY, "grid", H.COMMUNITY, "community"),
    ("community_type", RiskLevel.ORDINARY, "micro_grid", H.COMMUNITY, "community"),
    ("grid_type", RiskLevel.MAJOR, "micro_grid", H.STREET, "street"),
    ("community_type", RiskLevel.MAJOR, "grid", H.STREET, "street"),
    ("grid_type", RiskLevel.SERIOUS, "grid", H.DISTRICT, "district"),
    ("community_type", RiskLevel.SERIOUS, "micro_grid", H.DISTRICT, "district"),
    ("delivery", RiskLevel.ORDINARY, "grid", H.STREET, "street"),  # the type's own level
    # A grid with no community above it: the community's queue falls to the street.
    ("community_type", RiskLevel.ORDINARY, "street_grid", H.STREET, "street_1"),
    ("grid_type", RiskLevel.ORDINARY, "street_grid", H.GRID, "street_grid"),
    # A dedicated grid runs its own grid-level queue.
    ("grid_type", RiskLevel.ORDINARY, "school_floor", H.GRID, "school"),
    ("community_type", RiskLevel.ORDINARY, "school", H.COMMUNITY, "community"),
]


def place(w: World, name: str):
    t = w.tree
    return {
        "grid": t.grids[0],
        "micro_grid": t.micro_grids[0],
        "community": t.communities[0],
        "street": t.streets[0],
        "district": t.district,
        "street_1": t.streets[1],
        "street_grid": w.street_grid,
        "school": w.school,
        "school_floor": w.school_floor,
    }[name]


@pytest.mark.parametrize(
    "category, risk, filed_in, level, handled_by",
    ROUTES,
    ids=[f"{c}-{r}-in-{a}" for c, r, a, *_ in ROUTES],
)
def test_it_routes_by_category_and_risk_to_the_lowest_level_that_can_solve_it(
    world, category, risk, filed_in, level, handled_by
):
    routed = route(category=getattr(world, category), risk_level=risk, area=place(world, filed_in))
    assert routed.handling_level == level
    assert routed.handling_area == place(world, handled_by)


@pytest.mark.parametrize("risk", list(RiskLevel))
def test_it_keeps_a_dispute_resolved_on_the_spot_in_the_grid_whatever_the_risk(world, risk):
    routed = route(
        category=world.community_type, risk_level=risk, area=world.tree.micro_grids[0],
        on_spot=True,
    )  # fmt: skip
    assert (routed.handling_level, routed.handling_area) == (H.GRID, world.tree.grids[0])


@pytest.mark.parametrize(
    "category, department",
    [
        ("community_type", "housing"),  # the type's own lead department
        ("wages", "labour"),  # inherited from the first-level type
        ("grid_type", None),  # none at either level
    ],
)
def test_it_takes_the_lead_department_from_the_category(world, category, department):
    routed = route(
        category=getattr(world, category), risk_level=RiskLevel.ORDINARY,
        area=world.tree.grids[0],
    )  # fmt: skip
    expected = getattr(world, department) if department else None
    assert routed.lead_department == expected


def test_it_copies_every_ancestor_of_a_micro_grid(world):
    t = world.tree
    routed = route(category=world.grid_type, risk_level=RiskLevel.ORDINARY, area=t.micro_grids[3])
    assert ancestor_ids(routed.ancestors) == {
        "district": t.district,
        "street": t.streets[0],
        "community": t.communities[0],
        "grid": t.grids[1],
    }


def test_it_copies_a_dedicated_grid_as_the_grid(world):
    t = world.tree
    routed = route(category=world.grid_type, risk_level=RiskLevel.ORDINARY, area=world.school_floor)
    assert ancestor_ids(routed.ancestors) == {
        "district": t.district,
        "street": t.streets[0],
        "community": t.communities[0],
        "grid": world.school,
    }


def test_it_leaves_the_community_empty_for_a_grid_under_a_street(world):
    t = world.tree
    routed = route(category=world.grid_type, risk_level=RiskLevel.ORDINARY, area=world.street_grid)
    assert ancestor_ids(routed.ancestors) == {
        "district": t.district,
        "street": t.streets[1],
        "community": None,
        "grid": world.street_grid,
    }


def file_case(w: World, **overrides):
    fields = {
        "actor": w.worker,
        "area": w.tree.micro_grids[0],
        "category": w.community_type,
        "cause": "漏水",
        "address": "民生路1号",
        "channel": Channel.GRID_WORKER,
        "parties": [{"side": "applicant", "name": "李秀英"}],
    }
    return services.case_file(**(fields | overrides))


@pytest.mark.parametrize(
    "category, risk, level, handled_by, risk_stored",
    [
        ("grid_type", None, H.GRID, "grid", RiskLevel.ORDINARY),
        ("community_type", None, H.COMMUNITY, "community", RiskLevel.ORDINARY),
        ("community_type", RiskLevel.MAJOR, H.STREET, "street", RiskLevel.MAJOR),
        ("community_type", RiskLevel.SERIOUS, H.DISTRICT, "district", RiskLevel.SERIOUS),
        ("delivery", None, H.STREET, "street", RiskLevel.MAJOR),  # the type's default risk
    ],
)
def test_it_files_a_case_into_the_routed_queue(
    world, category, risk, level, handled_by, risk_stored
):
    case = file_case(world, category=getattr(world, category), risk_level=risk)
    case.refresh_from_db()
    assert (case.handling_level, case.handling_area) == (level, place(world, handled_by))
    assert case.risk_level == risk_stored


def test_it_files_a_case_with_the_category_lead_department(world):
    assert file_case(world, category=world.community_type).lead_department == world.housing
    assert file_case(world, category=world.wages).lead_department == world.labour
    assert file_case(world, category=world.grid_type).lead_department is None


def test_it_files_a_case_in_a_grid_under_a_street_into_the_street_queue(world):
    case = file_case(world, actor=world.street_staff, area=world.street_grid)
    case.refresh_from_db()
    assert (case.handling_level, case.handling_area) == (H.STREET, world.tree.streets[1])
    assert (case.street, case.community, case.grid) == (
        world.tree.streets[1],
        None,
        world.street_grid,
    )


def test_it_lets_no_grid_worker_file_outside_their_grid(world):
    with pytest.raises(PermissionDenied):
        file_case(world, area=world.street_grid)

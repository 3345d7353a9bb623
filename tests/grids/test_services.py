"""Writes to areas and assignments go through grids.services."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from grids import services
from grids.models import Area, AreaLevel, Assignment, Role
from grids.signals import area_moved
from tests.factories import (
    DepartmentFactory,
    SuperuserFactory,
    Tree,
    UserFactory,
    assert_tree_is_sound,
    make_area,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    return Tree()


@pytest.fixture
def actor():
    return SuperuserFactory(username="boss")


# --- area_create ------------------------------------------------------------------------


def test_it_creates_a_root_district_and_children_in_the_tree(actor):
    district = services.area_create(code="D", name="渝中区", level=AreaLevel.DISTRICT, actor=actor)
    street = services.area_create(
        code="S", name="解放碑街道", level=AreaLevel.STREET, parent=district, actor=actor
    )
    grid = services.area_create(
        code="G", name="街道直管网格", level=AreaLevel.GRID, parent=street, households=120
    )

    district.refresh_from_db()
    street.refresh_from_db()
    assert (district.depth, district.numchild) == (1, 1)
    assert street.parent == district
    assert street.path.startswith(district.path)
    assert (grid.parent_id, grid.depth, grid.households) == (street.pk, 3, 120)
    assert_tree_is_sound()


@pytest.mark.parametrize(
    ("level", "parent_level"),
    [
        (AreaLevel.MICRO_GRID, AreaLevel.COMMUNITY),
        (AreaLevel.COMMUNITY, AreaLevel.DISTRICT),
        (AreaLevel.DISTRICT, AreaLevel.STREET),
        (AreaLevel.STREET, None),
    ],
)
def test_it_refuses_to_create_an_area_under_the_wrong_parent(tree, level, parent_level):
    parent = {
        AreaLevel.COMMUNITY: tree.communities[0],
        AreaLevel.DISTRICT: tree.district,
        AreaLevel.STREET: tree.streets[0],
        None: None,
    }[parent_level]
    count = Area.objects.count()

    with pytest.raises(ValidationError) as excinfo:
        services.area_create(code="NEW", name="新区域", level=level, parent=parent)

    assert list(excinfo.value.message_dict) == ["parent"]
    assert excinfo.value.message_dict["parent"][0]
    assert Area.objects.count() == count
    assert_tree_is_sound()


def test_it_names_the_allowed_parents_when_refusing_a_level(tree):
    with pytest.raises(ValidationError) as excinfo:
        services.area_create(
            code="NEW", name="新微网格", level=AreaLevel.MICRO_GRID, parent=tree.communities[0]
        )

    message = excinfo.value.message_dict["parent"][0]
    assert str(AreaLevel.GRID.label) in message
    assert str(AreaLevel.DEDICATED.label) in message


def test_it_refuses_a_duplicate_code_and_a_dedicated_grid_without_kind(tree):
    with pytest.raises(ValidationError) as duplicate:
        services.area_create(
            code=tree.grids[0].code, name="重复", level=AreaLevel.GRID, parent=tree.communities[0]
        )
    with pytest.raises(ValidationError) as kindless:
        services.area_create(
            code="X1", name="学校", level=AreaLevel.DEDICATED, parent=tree.communities[0]
        )

    assert "code" in duplicate.value.message_dict
    assert "dedicated_kind" in kindless.value.message_dict


def test_it_appends_a_new_child_after_existing_siblings(tree):
    community = tree.communities[0]

    grid = services.area_create(code="G3", name="三网格", level=AreaLevel.GRID, parent=community)

    community.refresh_from_db()
    assert community.numchild == 3
    assert grid.path > tree.grids[1].path
    assert list(Area.objects.get_children(community))[-1] == grid
    assert_tree_is_sound()


# --- area_move --------------------------------------------------------------------------


def test_it_moves_a_grid_with_its_micro_grids_to_another_community(tree, actor):
    grid = tree.grids[0]
    old_community, new_community = tree.communities[0], tree.communities[3]
    micro_ids = {m.pk for m in tree.micro_grids[:2]}
    received = []

    def listener(sender, area, actor, **kwargs):
        received.append((area.pk, actor))

    area_moved.connect(listener)
    try:
        moved = services.area_move(area=grid, new_parent=new_community, actor=actor)
    finally:
        area_moved.disconnect(listener)

    new_community.refresh_from_db()
    old_community.refresh_from_db()
    assert moved.parent == new_community
    assert moved.path.startswith(new_community.path)
    assert moved.depth == new_community.depth + 1
    micro_grids = list(Area.objects.filter(pk__in=micro_ids))
    assert all(m.path.startswith(moved.path) and m.parent_id == moved.pk for m in micro_grids)
    assert all(m.depth == moved.depth + 1 for m in micro_grids)
    assert (old_community.numchild, new_community.numchild) == (1, 3)
    assert set(Area.objects.all().subtree_of(moved).values_list("pk", flat=True)) == (
        micro_ids | {grid.pk}
    )
    assert received == [(grid.pk, actor)]
    assert_tree_is_sound()


def test_it_moves_a_grid_to_a_community_of_another_street(tree):
    grid = tree.grids[1]

    services.area_move(area=grid, new_parent=tree.communities[2])

    moved = Area.objects.get(pk=grid.pk)
    assert [a.pk for a in Area.objects.get_ancestors(moved)] == [
        tree.district.pk,
        tree.streets[1].pk,
        tree.communities[2].pk,
    ]
    assert_tree_is_sound()


def test_it_does_nothing_when_moving_an_area_under_its_current_parent(tree):
    grid = tree.grids[0]
    before = (grid.path, grid.updated_at)

    moved = services.area_move(area=grid, new_parent=tree.communities[0])

    assert (moved.path, moved.updated_at) == before


def test_it_refuses_to_move_a_micro_grid_under_a_community(tree):
    micro = tree.micro_grids[0]

    with pytest.raises(ValidationError) as excinfo:
        services.area_move(area=micro, new_parent=tree.communities[1])

    assert "parent" in excinfo.value.message_dict
    micro.refresh_from_db()
    assert micro.parent == tree.grids[0]
    assert micro.path.startswith(tree.grids[0].path)
    assert_tree_is_sound()


@pytest.mark.parametrize("target", ["own_community", "own_grid", "itself"])
def test_it_refuses_to_move_an_area_under_its_own_descendant(tree, target):
    street = tree.streets[0]
    new_parent = {
        "own_community": tree.communities[0],
        "own_grid": tree.grids[0],
        "itself": street,
    }[target]
    paths = dict(Area.objects.values_list("pk", "path"))

    with pytest.raises(ValidationError) as excinfo:
        services.area_move(area=street, new_parent=new_parent)

    assert "parent" in excinfo.value.message_dict
    assert dict(Area.objects.values_list("pk", "path")) == paths
    assert_tree_is_sound()


def test_it_moves_several_areas_at_once(tree):
    grids = [tree.grids[0], tree.grids[1]]

    moved = services.areas_move(areas=grids, new_parent=tree.communities[1])

    assert moved == 2
    assert set(Area.objects.get_children(Area.objects.get(pk=tree.communities[1].pk))) == set(
        Area.objects.filter(pk__in=[*[g.pk for g in grids], tree.grids[2].pk, tree.grids[3].pk])
    )
    assert_tree_is_sound()


def test_it_moves_none_of_several_areas_when_one_cannot_move(tree):
    paths = dict(Area.objects.values_list("pk", "path"))
    parents = dict(Area.objects.values_list("pk", "parent_id"))

    with pytest.raises(ValidationError):
        services.areas_move(
            areas=[tree.grids[0], tree.micro_grids[4]], new_parent=tree.communities[1]
        )

    assert dict(Area.objects.values_list("pk", "path")) == paths
    assert dict(Area.objects.values_list("pk", "parent_id")) == parents
    assert_tree_is_sound()


def test_it_updates_attributes_and_moves_through_area_update(tree, actor):
    grid = tree.grids[0]

    updated = services.area_update(
        area=grid, name="新名字", households=42, parent=tree.communities[1], actor=actor
    )

    updated.refresh_from_db()
    assert (updated.name, updated.households) == ("新名字", 42)
    assert updated.parent == tree.communities[1]
    assert_tree_is_sound()


# --- assignments ------------------------------------------------------------------------


def test_it_creates_an_assignment_at_a_valid_place(tree, actor):
    user = UserFactory()

    assignment = services.assignment_create(
        user=user, role=Role.GRID_WORKER, area=tree.grids[0], actor=actor
    )

    assert assignment.pk
    assert assignment.is_active
    record = assignment.history.get()
    assert (record.history_type, record.history_user) == ("+", actor)


@pytest.mark.parametrize(
    ("role", "place", "field"),
    [
        (Role.STREET_STAFF, "grid", "area"),
        (Role.MICRO_GRID_HEAD, "community", "area"),
        (Role.GRID_WORKER, "street", "area"),
        (Role.COMMUNITY_SECRETARY, "department", "area"),
        (Role.DEPARTMENT_LIAISON, "community", "department"),
        (Role.DEPARTMENT_LIAISON, None, "department"),
        (Role.DISTRICT_STAFF, None, "area"),
        (Role.DISTRICT_STAFF, "district+department", "department"),
        ("chief", "grid", "role"),
    ],
)
def test_it_refuses_an_assignment_at_the_wrong_place(tree, role, place, field):
    department = DepartmentFactory()
    area, dept = {
        "grid": (tree.grids[0], None),
        "community": (tree.communities[0], None),
        "street": (tree.streets[0], None),
        "department": (None, department),
        "district+department": (tree.district, department),
        None: (None, None),
    }[place]

    with pytest.raises(ValidationError) as excinfo:
        services.assignment_create(user=UserFactory(), role=role, area=area, department=dept)

    assert field in excinfo.value.message_dict
    assert Assignment.objects.count() == 0


def test_it_allows_a_system_administrator_without_a_place():
    assignment = services.assignment_create(user=UserFactory(), role=Role.ADMIN)

    assert (assignment.area, assignment.department) == (None, None)


def test_it_refuses_an_assignment_that_ends_before_it_starts(tree):
    now = timezone.now()

    with pytest.raises(ValidationError):
        services.assignment_create(
            user=UserFactory(),
            role=Role.GRID_WORKER,
            area=tree.grids[0],
            started_at=now,
            ended_at=now - timedelta(days=1),
        )

    assert Assignment.objects.count() == 0


def test_it_ends_an_assignment_but_keeps_the_row_and_its_history(tree, actor):
    user = UserFactory()
    assignment = services.assignment_create(user=user, role=Role.GRID_WORKER, area=tree.grids[0])
    before = timezone.now()

    ended = services.assignment_end(assignment=assignment, actor=actor)

    assert Assignment.objects.filter(pk=assignment.pk).exists()
    ended.refresh_from_db()
    assert ended.ended_at is not None
    assert ended.ended_at >= before
    assert not ended.is_active
    assert not Assignment.objects.active().filter(pk=assignment.pk).exists()
    records = list(Assignment.history.filter(id=assignment.pk).order_by("history_date"))
    assert [r.history_type for r in records] == ["+", "~"]
    assert records[0].ended_at is None
    assert records[1].ended_at == ended.ended_at
    assert records[1].history_user == actor


def test_it_does_not_end_an_assignment_twice(tree):
    assignment = services.assignment_create(
        user=UserFactory(), role=Role.GRID_WORKER, area=tree.grids[0]
    )
    first = services.assignment_end(assignment=assignment)

    again = services.assignment_end(assignment=assignment)

    assert again.ended_at == first.ended_at
    assert Assignment.history.filter(id=assignment.pk).count() == 2


def test_it_never_ends_an_assignment_before_it_started(tree):
    start = timezone.now() + timedelta(days=3)
    assignment = services.assignment_create(
        user=UserFactory(), role=Role.GRID_WORKER, area=tree.grids[0], started_at=start
    )

    ended = services.assignment_end(assignment=assignment)

    assert ended.ended_at == start


def test_it_ends_only_the_open_assignments_in_bulk(tree, actor):
    user = UserFactory()
    open_one = services.assignment_create(user=user, role=Role.GRID_WORKER, area=tree.grids[0])
    closed = services.assignment_create(user=user, role=Role.MEDIATOR, area=tree.communities[0])
    services.assignment_end(assignment=closed)

    ended = services.assignments_end(assignments=Assignment.objects.all(), actor=actor)

    assert ended == 1
    open_one.refresh_from_db()
    assert open_one.ended_at is not None
    assert Assignment.objects.count() == 2


def test_it_refuses_an_assignment_update_to_a_wrong_place(tree):
    assignment = services.assignment_create(
        user=UserFactory(), role=Role.GRID_WORKER, area=tree.grids[0]
    )
    assignment.area = tree.streets[0]

    with pytest.raises(ValidationError):
        services.assignment_update(assignment=assignment)

    assert Assignment.objects.get(pk=assignment.pk).area == tree.grids[0]


def test_it_creates_an_area_helper_tree_that_is_sound(tree):
    # The Tree helper is the base of most tests here: it must itself be a valid tree.
    extra = make_area(AreaLevel.GRID, tree.streets[0], name="街道直管网格")

    assert extra.parent == tree.streets[0]
    assert Area.objects.count() == 32
    assert_tree_is_sound()

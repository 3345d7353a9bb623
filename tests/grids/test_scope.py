"""Who sees which areas: `Area.objects.visible_to(user)` and the scope behind it."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from grids.models import Area, Role
from grids.selectors import area_counts_by_level, area_search, user_scope
from tests.factories import DepartmentFactory, SuperuserFactory, Tree, UserFactory, assign

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    return Tree()


def subtree(area: Area) -> set[int]:
    return set(Area.objects.filter(path__startswith=area.path).values_list("pk", flat=True))


def everything() -> set[int]:
    return set(Area.objects.values_list("pk", flat=True))


def visible(user) -> set[int]:
    return set(Area.objects.visible_to(user).values_list("pk", flat=True))


# role → (where the role is held, what it should then see). `None` place = a department.
ROLE_CASES = {
    Role.GRID_WORKER: (lambda t: t.grids[0], lambda t: subtree(t.grids[0])),
    Role.MICRO_GRID_HEAD: (lambda t: t.micro_grids[0], lambda t: {t.micro_grids[0].pk}),
    Role.MEDIATOR: (lambda t: t.communities[0], lambda t: subtree(t.communities[0])),
    Role.COMMUNITY_SECRETARY: (lambda t: t.communities[0], lambda t: subtree(t.communities[0])),
    Role.JUDGE: (lambda t: t.communities[0], lambda t: subtree(t.communities[0])),
    Role.PROSECUTOR: (lambda t: t.communities[0], lambda t: subtree(t.communities[0])),
    Role.POLICE: (lambda t: t.communities[0], lambda t: subtree(t.communities[0])),
    Role.LAWYER: (lambda t: t.communities[0], lambda t: subtree(t.communities[0])),
    Role.STREET_STAFF: (lambda t: t.streets[0], lambda t: subtree(t.streets[0])),
    Role.STREET_LEADER: (lambda t: t.streets[0], lambda t: subtree(t.streets[0])),
    Role.DISTRICT_STAFF: (lambda t: t.district, lambda t: everything()),
    Role.DEPARTMENT_LIAISON: (None, lambda t: set()),
    Role.ADMIN: (lambda t: None, lambda t: everything()),  # an administrator of no one area
}


def test_it_has_a_scope_case_for_every_role():
    assert set(ROLE_CASES) == set(Role.values)


@pytest.mark.parametrize("role", list(ROLE_CASES))
def test_it_shows_each_role_exactly_its_own_areas(tree, role):
    place, expected = ROLE_CASES[role]
    user = UserFactory()
    if place is None:
        assign(user, role, department=DepartmentFactory())
    else:
        assign(user, role, place(tree))

    assert visible(user) == expected(tree)


def test_it_shows_a_grid_worker_their_grid_and_its_micro_grids_only(tree):
    worker = UserFactory()
    assign(worker, Role.GRID_WORKER, tree.grids[0])

    names = list(Area.objects.visible_to(worker).values_list("name", flat=True))

    assert names == ["第1街道1社区1网格", "第1街道1社区1网格1微网格", "第1街道1社区1网格2微网格"]
    assert tree.grids[1].pk not in visible(worker)
    assert tree.communities[0].pk not in visible(worker)


def test_it_shows_community_staff_nothing_of_the_neighbouring_community(tree):
    secretary = UserFactory()
    assign(secretary, Role.COMMUNITY_SECRETARY, tree.communities[0])

    seen = visible(secretary)

    assert len(seen) == 7  # the community, 2 grids, 4 micro-grids
    assert not seen & subtree(tree.communities[1])
    assert tree.streets[0].pk not in seen


def test_it_shows_street_staff_their_street_and_not_the_other(tree):
    staff = UserFactory()
    assign(staff, Role.STREET_STAFF, tree.streets[1])

    seen = visible(staff)

    assert len(seen) == 15
    assert not seen & subtree(tree.streets[0])
    assert tree.district.pk not in seen


def test_it_shows_an_administrator_of_one_street_only_that_street(tree):
    admin = UserFactory()
    assign(admin, Role.ADMIN, tree.streets[0])

    assert visible(admin) == subtree(tree.streets[0])


def test_it_shows_a_superuser_everything_without_any_assignment(tree):
    assert visible(SuperuserFactory()) == everything()


def test_it_shows_nothing_to_a_user_without_assignments(tree):
    assert visible(UserFactory()) == set()


def test_it_shows_nothing_to_a_user_whose_assignment_ended(tree):
    user = UserFactory()
    assign(
        user,
        Role.STREET_STAFF,
        tree.streets[0],
        started_at=timezone.now() - timedelta(days=30),
        ended_at=timezone.now() - timedelta(days=1),
    )

    assert visible(user) == set()
    assert user_scope(user).roles == frozenset()


def test_it_shows_nothing_before_an_assignment_starts(tree):
    user = UserFactory()
    assign(user, Role.GRID_WORKER, tree.grids[0], started_at=timezone.now() + timedelta(days=1))

    assert visible(user) == set()


def test_it_shows_a_user_with_two_assignments_the_union(tree):
    user = UserFactory()
    assign(user, Role.GRID_WORKER, tree.grids[0])
    assign(user, Role.MEDIATOR, tree.communities[3])

    assert visible(user) == subtree(tree.grids[0]) | subtree(tree.communities[3])
    assert user_scope(user).roles == {Role.GRID_WORKER, Role.MEDIATOR}


def test_it_keeps_only_the_outermost_of_nested_assignments(tree):
    user = UserFactory()
    assign(user, Role.STREET_STAFF, tree.streets[0])
    assign(user, Role.MEDIATOR, tree.communities[0])

    scope = user_scope(user)

    assert scope.area_paths == (tree.streets[0].path,)
    assert visible(user) == subtree(tree.streets[0])


def test_it_shows_nothing_to_an_anonymous_user(tree):
    anonymous = AnonymousUser()

    assert visible(anonymous) == set()
    assert user_scope(anonymous).sees_everything is False


def test_it_computes_the_scope_in_one_query_and_caches_it(tree, django_assert_num_queries):
    user = UserFactory()
    assign(user, Role.GRID_WORKER, tree.grids[0])
    assign(user, Role.MEDIATOR, tree.communities[1])
    assign(user, Role.DEPARTMENT_LIAISON, department=DepartmentFactory())

    with django_assert_num_queries(1):
        scope = user_scope(user)
        # The place of each assignment comes with it, not one query per row.
        places = [a.area or a.department for a in scope.assignments]
    with django_assert_num_queries(0):
        again = user_scope(user)

    assert again is scope
    assert len(places) == 3
    assert len(scope.department_ids) == 1


def test_it_filters_areas_in_one_query_once_the_scope_is_known(tree, django_assert_num_queries):
    user = UserFactory()
    assign(user, Role.GRID_WORKER, tree.grids[0])
    assign(user, Role.GRID_WORKER, tree.grids[5])
    user_scope(user)

    with django_assert_num_queries(1):
        seen = visible(user)

    assert len(seen) == 6


def test_it_limits_area_search_and_counts_to_the_scope(tree):
    worker = UserFactory()
    assign(worker, Role.GRID_WORKER, tree.grids[0])

    found = list(area_search(user=worker, text="微网格"))
    counts = area_counts_by_level(user=worker)

    assert {a.pk for a in found} == subtree(tree.grids[0]) - {tree.grids[0].pk}
    assert counts == {"grid": 1, "micro_grid": 2}


def test_it_gives_each_demo_login_the_scope_of_its_role(demo):
    from grids.models import User

    def seen_codes(username):
        return set(
            Area.objects.visible_to(User.objects.get(username=username)).values_list(
                "code", flat=True
            )
        )

    assert seen_codes("gridworker") == {
        "500103001001G01",
        "500103001001G01M01",
        "500103001001G01M02",
    }
    assert seen_codes("microhead") == {"500103001001G01M01"}
    assert all(code.startswith("500103001001") for code in seen_codes("secretary"))
    assert all(code.startswith("500103001") for code in seen_codes("street"))
    assert seen_codes("labour") == set()
    assert (
        seen_codes("district")
        == seen_codes("admin")
        == set(Area.objects.values_list("code", flat=True))
    )

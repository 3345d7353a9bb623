"""The home page: who I am, where I am assigned, how many areas I look after."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from grids.models import AreaLevel, Role
from tests.factories import DepartmentFactory, SuperuserFactory, Tree, UserFactory, assign

pytestmark = pytest.mark.django_db

HOME = "/"


@pytest.fixture
def tree():
    return Tree()


def page(client, user):
    client.force_login(user)
    return client.get(HOME)


def places(response) -> list:
    return [row["place"] for row in response.context["assignments"]]


def test_it_sends_an_anonymous_visitor_to_the_login_page(client):
    response = client.get(HOME)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={HOME}"


def test_it_greets_the_user_by_real_name(client, tree):
    user = UserFactory(real_name="张网格")
    assign(user, Role.GRID_WORKER, tree.grids[0])

    response = page(client, user)

    assert response.status_code == 200
    assert "张网格" in response.content.decode()


def test_it_shows_the_users_assignments_with_the_full_place(client, tree):
    user = UserFactory()
    assign(user, Role.GRID_WORKER, tree.grids[0])
    assign(user, Role.MEDIATOR, tree.communities[3])

    response = page(client, user)

    content = response.content.decode()
    assert sorted(places(response)) == [
        "测试区 / 第1街道 / 第1街道1社区 / 第1街道1社区1网格",
        "测试区 / 第2街道 / 第2街道2社区",
    ]
    assert "测试区 / 第1街道 / 第1街道1社区 / 第1街道1社区1网格" in content
    assert str(Role.GRID_WORKER.label) in content
    assert str(Role.MEDIATOR.label) in content


def test_it_shows_a_department_as_the_place_of_a_liaison(client):
    user = UserFactory()
    department = DepartmentFactory(name="区人力资源和社会保障局")
    assign(user, Role.DEPARTMENT_LIAISON, department=department)

    response = page(client, user)

    assert places(response) == [department]
    assert "区人力资源和社会保障局" in response.content.decode()
    assert response.context["area_counts"] == []


def test_it_leaves_out_ended_assignments(client, tree):
    user = UserFactory()
    assign(user, Role.GRID_WORKER, tree.grids[0])
    assign(
        user,
        Role.GRID_WORKER,
        tree.grids[5],
        started_at=timezone.now() - timedelta(days=60),
        ended_at=timezone.now() - timedelta(days=1),
    )

    response = page(client, user)

    assert len(places(response)) == 1
    assert tree.grids[5].name not in response.content.decode()


def test_it_counts_the_areas_in_the_users_scope_by_level(client, tree):
    user = UserFactory()
    assign(user, Role.STREET_STAFF, tree.streets[0])

    response = page(client, user)

    counts = [(str(row["label"]), row["count"]) for row in response.context["area_counts"]]
    assert counts == [
        (str(AreaLevel.STREET.label), 1),
        (str(AreaLevel.COMMUNITY.label), 2),
        (str(AreaLevel.GRID.label), 4),
        (str(AreaLevel.MICRO_GRID.label), 8),
    ]


def test_it_tells_a_user_without_assignments_to_ask_for_one(client, tree):
    response = page(client, UserFactory())

    assert response.status_code == 200
    assert response.context["assignments"] == []
    assert response.context["sees_everything"] is False
    assert 'class="alert alert-warning"' in response.content.decode()


def test_it_tells_a_superuser_they_administer_everything(client, tree):
    response = page(client, SuperuserFactory())

    assert response.context["sees_everything"] is True
    assert sum(row["count"] for row in response.context["area_counts"]) == 31
    assert reverse("admin:index") in response.content.decode()


def test_it_shows_the_users_roles_in_the_navigation_bar(client, tree):
    user = UserFactory(real_name="王书记")
    assign(user, Role.COMMUNITY_SECRETARY, tree.communities[0])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = page(client, user)

    content = response.content.decode()
    assert 'data-testid="who"' in content
    assert "王书记 · Community secretary" in content


@pytest.mark.parametrize("count", [1, 5])
def test_it_renders_the_home_page_with_a_fixed_number_of_queries(
    client, tree, django_assert_max_num_queries, count
):
    user = UserFactory()
    for grid in tree.grids[:count]:
        assign(user, Role.GRID_WORKER, grid)
    client.force_login(user)

    # session, user, scope, ancestors of the places, area counts, the header's unread badge,
    # the banner of instructions to acknowledge
    with django_assert_max_num_queries(7):
        response = client.get(HOME)

    assert response.status_code == 200
    assert len(places(response)) == count

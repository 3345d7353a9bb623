# ruff: noqa: F811 - the `world` fixture is imported from test_pages
"""Location on a filing: stored when the worker gives it, checked, shown, and the nearest
area the worker may file in suggested from where they stand."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from disputes.models import Case
from grids.models import Area
from tests.disputes.test_api import client_for, filing
from tests.disputes.test_pages import file_case, filing_post, login, world  # noqa: F401

pytestmark = pytest.mark.django_db
NEAREST = reverse("disputes:nearest_area")


def micro(code="500103001001G01M02"):
    return Area.objects.get(code=code)


def test_the_service_stores_a_position_and_refuses_half_or_impossible_ones(world):
    case = file_case(world, latitude=Decimal("29.556123"), longitude=Decimal("106.572001"))
    case.refresh_from_db()
    assert (case.latitude, case.longitude) == (Decimal("29.556123"), Decimal("106.572001"))

    for bad in ({"latitude": Decimal("29.5")}, {"latitude": Decimal("95"), "longitude": 0}):
        with pytest.raises(ValidationError) as error:
            file_case(world, **bad)
        assert "latitude" in error.value.message_dict
    assert Case.objects.count() == 1


def test_the_page_stores_the_position_and_the_case_page_shows_it(client, world):
    login(client, world, "gridworker")
    response = client.post(
        reverse("disputes:file"),
        filing_post(world, latitude="29.556500", longitude="106.568200"),
    )
    case = Case.objects.get()
    assert response.status_code == 302
    assert case.latitude == Decimal("29.556500")
    page = client.get(reverse("disputes:detail", args=[case.pk])).content.decode()
    assert "29.5565" in page and "106.5682" in page


def test_the_page_refuses_a_position_off_the_map_beside_the_field(client, world):
    login(client, world, "gridworker")
    response = client.post(
        reverse("disputes:file"), filing_post(world, latitude="123", longitude="106.5")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["latitude"]
    assert not Case.objects.exists()


def test_the_api_takes_and_returns_the_position(world):
    user = world["users"]["gridworker"]
    data = filing(_api_world(world), latitude="29.556500", longitude="106.568200")
    response = client_for(user).post("/api/v1/cases/", data, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["latitude"] == "29.556500"
    bad = client_for(user).post("/api/v1/cases/", data | {"longitude": "181"}, format="json")
    assert bad.status_code == 400 and "longitude" in bad.json()["errors"]


def _api_world(demo_world):
    class W:
        grid = demo_world["micro"]
        categories = {"0203": demo_world["wages"]}

    return W


def test_the_nearest_area_is_the_workers_own_closest_grid(client, world):
    login(client, world, "gridworker")
    target = micro()
    response = client.get(NEAREST, {"lat": str(target.latitude), "lon": str(target.longitude)})
    assert response.status_code == 200
    assert response.json()["area"] == {"id": target.pk, "name": target.name, "code": target.code}


def test_the_nearest_area_never_leaves_the_users_scope(
    client, world, django_assert_max_num_queries
):
    """Standing in another street's grid, the worker is offered the nearest of their own."""
    login(client, world, "gridworker")
    elsewhere = Area.objects.get(code="500103002001G01")
    with django_assert_max_num_queries(6):
        response = client.get(
            NEAREST, {"lat": str(elsewhere.latitude), "lon": str(elsewhere.longitude)}
        )
    area = Area.objects.get(pk=response.json()["area"]["id"])
    assert area.code.startswith("500103001001G01")


@pytest.mark.parametrize("query", [{}, {"lat": "x", "lon": "1"}, {"lat": "91", "lon": "1"}])
def test_the_nearest_area_refuses_bad_input(client, world, query):
    login(client, world, "gridworker")
    response = client.get(NEAREST, query)
    assert response.status_code == 400
    assert response.json()["error"]


def test_the_nearest_area_is_only_for_those_who_file(client, world):
    login(client, world, "judge")
    assert client.get(NEAREST, {"lat": "29.5", "lon": "106.5"}).status_code == 403
    client.logout()
    assert client.get(NEAREST, {"lat": "29.5", "lon": "106.5"}).status_code == 302

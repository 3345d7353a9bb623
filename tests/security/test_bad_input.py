"""Odd input answers 400 with a reason, never a server error: a NUL byte anywhere in a URL
or a plain form post (PostgreSQL refuses NUL in text), and a report period ending on
9999-12-31 (its end, "the next day 00:00", overflowed)."""

from io import StringIO
from urllib.parse import urlencode

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from grids.models import User
from tests.factories import SuperuserFactory

pytestmark = pytest.mark.django_db

NUL = "\x00"


@pytest.fixture
def admin_client(client):
    client.force_login(SuperuserFactory())
    return client


@pytest.mark.parametrize(
    "url, params",
    [
        ("/cases/", {"q": f"漏水{NUL}"}),
        ("/cases/", {f"q{NUL}": "漏水"}),
        ("/dashboard/", {"to": f"2026-12-01{NUL}"}),
        (f"/r/track/AB{NUL}CD/", {}),
        (f"/r/G{NUL}01/", {}),
    ],
)
def test_a_nul_byte_in_a_url_is_refused_in_chinese(admin_client, url, params):
    response = admin_client.get(url, params)

    assert response.status_code == 400
    assert "NUL" in response.content.decode() and "字符" in response.content.decode()


def test_a_nul_byte_in_a_plain_form_post_is_refused(admin_client):
    body = urlencode({"code": f"AB{NUL}", "digits": "1234"})
    response = admin_client.post(
        "/r/track/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400


def test_a_nul_byte_on_the_api_gets_the_api_error_shape():
    api = APIClient()
    api.force_authenticate(SuperuserFactory())

    response = api.get("/api/v1/cases/", {"q": NUL})

    assert response.status_code == 400
    assert set(response.json()) == {"detail", "errors"} and "NUL" in response.json()["detail"]


@pytest.mark.parametrize(
    "url",
    ["/api/v1/stats/summary/", "/api/v1/stats/by-area/", "/api/v1/residents/figures/"],
)
@pytest.mark.parametrize("bound", ["from", "to"])
def test_a_period_beyond_the_year_2099_is_a_clear_400_on_the_api(url, bound):
    api = APIClient()
    api.force_authenticate(SuperuserFactory())
    params = {"from": "2026-01-01", "to": "2026-12-31"} | {bound: "9999-12-31"}
    if bound == "from":
        params["to"] = "9999-12-31"

    response = api.get(url, params)

    assert response.status_code == 400
    assert "2099-12-31" in str(response.json())


def test_a_period_beyond_the_year_2099_is_a_form_error_on_the_dashboard(admin_client):
    response = admin_client.get("/dashboard/", {"from": "2026-01-01", "to": "9999-12-31"})

    assert response.status_code == 400
    assert "2099-12-31" in response.content.decode()


def test_seed_demo_refuses_a_server_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", stdout=StringIO())
    assert not User.objects.filter(username="admin").exists()

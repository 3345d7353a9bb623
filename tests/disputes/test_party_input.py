# ruff: noqa: F811 - the `world` fixture is imported from test_pages
"""Parties as typed: phone numbers checked (mobile, landline, service lines), and a row with
data but no name is an error beside the field, never silently dropped (page and API)."""

import pytest
from django.urls import reverse

from disputes.models import Case
from disputes.services.filing import phone_ok
from tests.disputes.test_api import client_for
from tests.disputes.test_pages import filing_post, login, world  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("phone", "ok"),
    [
        ("13912345678", True),
        ("+86 139 1234 5678", True),
        ("139-1234-5678", True),
        ("023-63881234", True),
        ("(023)63881234", True),
        ("010-12345678-123", True),
        ("023 6388 1234转8", True),
        ("400-812-3123", True),
        ("1234567", False),  # seven digits: no area code
        ("12912345678", False),  # no mobile prefix 12
        ("139123456789", False),
        ("023-123", False),
        ("打电话", False),
    ],
)
def test_phone_numbers(phone, ok):
    assert phone_ok(phone) is ok


def post(client, world, **party):
    login(client, world, "gridworker")
    data = filing_post(world, **{f"parties-1-{k}": v for k, v in party.items()})
    return client.post(reverse("disputes:file"), data)


def test_a_party_with_a_phone_but_no_name_is_an_error_beside_the_name(client, world):
    response = post(client, world, name="", phone="13800002222")

    assert response.status_code == 200
    row = response.context["parties"].forms[1]
    assert row.errors["name"] == ["请填写该当事人的姓名（或清空这一行）。"]
    assert 'value="13800002222"' in response.content.decode()  # what was typed is kept
    assert not Case.objects.exists()


def test_a_seven_digit_phone_is_an_error_beside_the_phone(client, world):
    response = post(client, world, phone="1234567")

    assert response.status_code == 200
    assert response.context["parties"].forms[1].errors["phone"]
    assert "11位手机号码" in response.content.decode()
    assert not Case.objects.exists()


def test_a_landline_and_an_untouched_extra_row_file_fine(client, world):
    login(client, world, "gridworker")
    extra_row = {"parties-TOTAL_FORMS": "3", "parties-2-side": "respondent",
                 "parties-2-kind": "person"}  # fmt: skip
    data = filing_post(world, **{"parties-1-phone": "023-63881234"}, **extra_row)
    response = client.post(reverse("disputes:file"), data)

    assert response.status_code == 302
    assert sorted(Case.objects.get().parties.values_list("phone", flat=True)) == [
        "023-63881234",
        "13912345678",
    ]


def test_the_api_refuses_a_bad_phone_and_a_nameless_party(client, world):
    body = {
        "area": world["micro"].pk,
        "category": world["wages"].pk,
        "cause": "拖欠工资",
        "address": "民生路88号",
        "parties": [{"side": "applicant", "name": "陈建国", "phone": "1234567"},
                    {"side": "respondent", "name": "", "phone": "13800002222"}],
    }  # fmt: skip
    response = client_for(world["users"]["gridworker"]).post("/api/v1/cases/", body, format="json")

    assert response.status_code == 400
    messages = " ".join(response.json()["errors"]["parties"])
    assert "当事人1" in messages or "1" in messages
    assert "11位手机号码" in messages
    assert not Case.objects.exists()

"""Optional two-factor login: turned on by scanning and confirming a code; then the login
page and the API token both need the authenticator's code after the password; turned off
only with a current code."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-42"


@pytest.fixture
def person(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    user = UserFactory(username="liwei")
    user.set_password(PASSWORD)
    user.save()
    return user


def code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def turn_on(client, person, time_machine) -> TOTPDevice:
    client.force_login(person)
    page = client.get("/accounts/two-factor/")
    assert page.status_code == 200 and 'data-testid="otp-qr"' in page.content.decode()
    device = TOTPDevice.objects.get(user=person, confirmed=False)
    assert client.post("/accounts/two-factor/", {"code": "000000"}).status_code == 400
    time_machine.shift(timedelta(seconds=31))  # past the throttle of the wrong code
    assert client.post("/accounts/two-factor/", {"code": code(device)}).status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    client.logout()
    time_machine.shift(timedelta(seconds=31))  # a code is good once
    return device


def test_with_it_on_the_password_alone_does_not_log_in(client, person, time_machine):
    device = turn_on(client, person, time_machine)

    alone = client.post("/accounts/login/", {"username": "liwei", "password": PASSWORD})
    assert alone.status_code == 200 and "_auth_user_id" not in client.session
    assert (
        "验证器" in alone.content.decode() and 'data-testid="otp-token"' in alone.content.decode()
    )

    time_machine.shift(timedelta(seconds=31))
    both = client.post(
        "/accounts/login/", {"username": "liwei", "password": PASSWORD, "otp_token": code(device)}
    )
    assert both.status_code == 302 and client.session["_auth_user_id"] == str(person.pk)


def test_a_wrong_code_with_the_right_password_is_refused(client, person, time_machine):
    turn_on(client, person, time_machine)
    wrong = client.post(
        "/accounts/login/", {"username": "liwei", "password": PASSWORD, "otp_token": "123456"}
    )
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session


def test_an_api_token_needs_the_code_too(client, person, time_machine):
    device = turn_on(client, person, time_machine)
    api = APIClient()

    alone = api.post("/api/v1/auth/token/", {"username": "liwei", "password": PASSWORD})
    assert alone.status_code == 400 and "otp_token" in alone.json()["errors"]

    both = api.post(
        "/api/v1/auth/token/",
        {"username": "liwei", "password": PASSWORD, "otp_token": code(device)},
    )
    assert both.status_code == 200 and both.json()["token"]


def test_it_is_turned_off_only_with_a_current_code(client, person, time_machine):
    device = turn_on(client, person, time_machine)
    client.force_login(person)

    assert client.post("/accounts/two-factor/", {"code": "000000"}).status_code == 400
    assert TOTPDevice.objects.filter(user=person, confirmed=True).exists()
    time_machine.shift(timedelta(seconds=31))
    assert client.post("/accounts/two-factor/", {"code": code(device)}).status_code == 302
    assert not TOTPDevice.objects.filter(user=person).exists()
    assert client.post("/accounts/login/", {"username": "liwei", "password": PASSWORD})


def test_people_without_it_log_in_with_the_password_only(client, person):
    response = client.post("/accounts/login/", {"username": "liwei", "password": PASSWORD})
    assert response.status_code == 302
    assert 'data-testid="two-factor-link"' in client.get("/accounts/password/").content.decode()

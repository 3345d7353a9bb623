"""Logins: the 20th wrong password locks the account on every path (page, admin, API token)
for a cooling-off time, the lock ends by itself, tokens expire and end with a password
change, and everyone can change their own password."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import SuperuserFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-42"
LIMIT = 20


@pytest.fixture
def person():
    user = UserFactory(username="zhangwei")
    user.set_password(PASSWORD)
    user.save()
    return user


def page_login(client, password, username="zhangwei", path="/accounts/login/"):
    return client.post(path, {"username": username, "password": password})


def test_the_20th_wrong_password_locks_the_login_page_even_for_the_right_one(client, person):
    for _ in range(LIMIT - 1):
        assert page_login(client, "guess").status_code == 200  # the form, with its error
    locked = page_login(client, "guess")

    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.content.decode()
    assert "15" in locked.content.decode()  # minutes to wait
    assert page_login(client, PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lock_ends_after_the_cooling_off_time(client, person, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    for _ in range(LIMIT):
        page_login(client, "guess")
    time_machine.shift(timedelta(minutes=16))

    assert page_login(client, PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(person.pk)


def test_a_correct_login_before_the_limit_clears_the_count(client, person):
    for _ in range(LIMIT - 1):
        page_login(client, "guess")
    assert page_login(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(LIMIT - 1):
        assert page_login(client, "guess").status_code == 200


def test_the_admin_login_is_locked_too(client):
    admin = SuperuserFactory(username="root")
    admin.set_password(PASSWORD)
    admin.save()
    for _ in range(LIMIT):
        page_login(client, "guess", username="root", path="/admin/login/")

    assert page_login(client, PASSWORD, username="root", path="/admin/login/").status_code == 429


def test_the_api_token_login_is_locked_too(person):
    api = APIClient()
    for _ in range(LIMIT):
        api.post("/api/v1/auth/token/", {"username": "zhangwei", "password": "guess"})

    response = api.post("/api/v1/auth/token/", {"username": "zhangwei", "password": PASSWORD})

    assert response.status_code in (400, 429)
    assert "token" not in response.json()
    assert not Token.objects.filter(user=person).exists()


def token_for(api, password=PASSWORD) -> str:
    response = api.post("/api/v1/auth/token/", {"username": "zhangwei", "password": password})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def test_a_token_expires_and_a_new_one_replaces_it(person, time_machine, settings):
    settings.API_TOKEN_DAYS = 30
    time_machine.move_to(timezone.now(), tick=False)
    api = APIClient()
    old = token_for(api)
    api.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert api.get("/api/v1/cases/").status_code == 200

    time_machine.shift(timedelta(days=31))
    expired = api.get("/api/v1/cases/")
    assert expired.status_code in (401, 403)  # 403 when the session scheme is listed first
    assert "过期" in expired.json()["detail"]

    api.credentials()
    new = token_for(api)
    assert new != old
    api.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert api.get("/api/v1/cases/").status_code == 200


def test_a_password_change_ends_the_token(client, person):
    api = APIClient()
    token = token_for(api)
    client.force_login(person)

    changed = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "b3tter-Passw0rd", "new_password2":
         "b3tter-Passw0rd"},
    )  # fmt: skip

    assert changed.status_code == 302 and changed["Location"] == "/accounts/password/done/"
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/cases/").status_code in (401, 403)
    person.refresh_from_db()
    assert person.check_password("b3tter-Passw0rd")


def test_a_wrong_old_password_changes_nothing(client, person):
    client.force_login(person)

    page = client.post(
        "/accounts/password/",
        {"old_password": "guess", "new_password1": "b3tter-Passw0rd", "new_password2":
         "b3tter-Passw0rd"},
    )  # fmt: skip

    assert page.status_code == 200 and page.context["form"].errors["old_password"]
    person.refresh_from_db()
    assert person.check_password(PASSWORD)


def test_every_signed_in_user_finds_the_password_page(client, person):
    client.force_login(person)
    home = client.get("/").content.decode()
    assert 'href="/accounts/password/"' in home
    assert "修改密码" in client.get("/accounts/password/").content.decode()
    assert client.get("/accounts/password/", follow=False).status_code == 200
    client.logout()
    assert client.get("/accounts/password/").status_code == 302  # to the login page


def test_a_login_lasts_a_working_day(client, person, settings, time_machine):
    settings.SESSION_COOKIE_AGE = 12 * 3600  # the product's default (settings.py)
    time_machine.move_to(timezone.now(), tick=False)
    assert page_login(client, PASSWORD).status_code == 302
    time_machine.shift(timedelta(hours=11))
    assert client.get("/").status_code == 200
    time_machine.shift(timedelta(hours=2))
    assert client.get("/").status_code == 302  # back to the login page


def test_an_admin_resets_a_forgotten_password_and_the_old_token_ends(client, person):
    token = token_for(APIClient())
    client.force_login(SuperuserFactory())

    reset = client.post(
        f"/admin/grids/user/{person.pk}/password/",
        {"password1": "N3w-Temp-Pass!", "password2": "N3w-Temp-Pass!"},
    )

    assert reset.status_code == 302
    person.refresh_from_db()
    assert person.check_password("N3w-Temp-Pass!")
    assert not Token.objects.filter(key=token).exists()


def test_an_overlong_username_on_the_token_api_is_a_field_error(person):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "a" * 300, "password": "x"}, format="json"
    )
    assert response.status_code == 400 and "username" in response.json()["errors"]

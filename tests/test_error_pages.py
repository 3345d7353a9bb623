"""Error pages a user can meet (a bad QR code, a page outside their role, a crash, a form
that expired) are in Chinese, styled and phone-sized, and never show a debug page. A
resident on the public pages, or anyone not signed in, is offered "Back" only: never a
link to the staff login."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client, RequestFactory
from django.urls import get_resolver, reverse
from django.views.defaults import server_error

from grid_governance import error_pages
from residents import public_urls
from tests.factories import UserFactory

HOME_LINK = re.compile(r'href="/"|href="/accounts/login')


@pytest.fixture(autouse=True)
def _production(settings):
    settings.DEBUG = False


def assert_error_page(response, status: int, *phrases: str):
    body = response.content.decode()
    assert response.status_code == status, body[:500]
    assert 'name="viewport"' in body and "bootstrap.min.css" in body
    assert '<html lang="zh-hans">' in body
    for phrase in phrases:
        assert phrase in body
    assert "Traceback" not in body and "CSRF verification" not in body
    return body


def assert_back_only(body: str):
    assert "data-back>返回</button>" in body
    assert not HOME_LINK.search(body), "a resident or a stranger must not be sent to the login"
    assert "登录" not in body


def assert_home_and_back(body: str):
    assert '<a class="btn btn-primary" href="/" data-testid="error-home">首页</a>' in body
    assert "data-back>返回</button>" in body


@pytest.fixture
def staff(db):
    return UserFactory(username="no-role")  # signed in, with no role: may file nothing


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- 404 ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_missing_page_answers_in_chinese_on_a_phone_sized_page(client):
    response = client.get("/no-such-page/")

    body = assert_error_page(response, 404, "页面不存在，或您无权查看。")
    assert_back_only(body)  # not signed in


@pytest.mark.django_db
def test_a_bad_qr_code_gives_a_resident_no_way_to_the_login(client):
    response = client.get("/r/NO-SUCH-AREA/")

    body = assert_error_page(response, 404, "请检查网址或所扫描的二维码，它可能不完整或已失效。")
    assert_back_only(body)
    assert "辖区" not in body  # staff wording stays on staff pages


def test_a_signed_in_worker_on_a_public_page_also_gets_back_only(staff):
    body = signed_in(staff).get("/r/NO-SUCH-AREA/").content.decode()

    assert_back_only(body)


def test_a_signed_in_worker_on_a_staff_page_gets_home_and_back(staff):
    response = signed_in(staff).get("/cases/no-such-page/")

    body = assert_error_page(response, 404, "不在您辖区内的案件会显示为未找到。")
    assert_home_and_back(body)


# --- 403 ------------------------------------------------------------------------------------


def test_a_page_outside_ones_role_is_refused_in_chinese_with_a_way_home(staff):
    response = signed_in(staff).get(reverse("disputes:nearest_area"), {"lat": 29.5, "lon": 106.5})

    body = assert_error_page(response, 403, "您无权打开此页面。", "您的角色不包含此权限。")
    assert_home_and_back(body)


@pytest.mark.parametrize("path", ["/r/track/", "/cases/1/"])
def test_a_refusal_for_a_stranger_offers_back_only(path):
    request = RequestFactory().get(path)
    request.user = AnonymousUser()

    response = error_pages.permission_denied(request)

    body = assert_error_page(response, 403, "您无权打开此页面。", "此页面不对外开放。")
    assert_back_only(body)


# --- 400 ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/r/track/", "/cases/"])
def test_a_bad_request_answers_in_chinese(client, path):
    response = client.get(path, HTTP_HOST="not-our-site.example")  # DisallowedHost → 400

    body = assert_error_page(response, 400, "无法处理此请求。", "请返回后重试")
    assert_back_only(body)


def test_the_bad_request_page_offers_home_to_signed_in_staff(staff):
    request = RequestFactory().get("/cases/")
    request.user = staff

    body = assert_error_page(error_pages.bad_request(request), 400, "无法处理此请求。")
    assert_home_and_back(body)


# --- 500 ------------------------------------------------------------------------------------


def test_the_server_error_page_needs_no_context_and_speaks_chinese():
    response = server_error(RequestFactory().get("/"))

    body = response.content.decode()
    assert response.status_code == 500
    assert "系统出现了问题。" in body and 'name="viewport"' in body
    assert_back_only(body)


@pytest.mark.django_db
def test_a_crash_on_a_public_page_shows_the_chinese_page_without_login(client, monkeypatch):
    def broken(area_code):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("residents.selectors.report_area", broken)
    client.raise_request_exception = False

    response = client.get("/r/500103001001/")

    body = assert_error_page(response, 500, "系统出现了问题。")
    assert "the database went away" not in body
    assert_back_only(body)


def test_a_crash_on_a_staff_page_offers_home_to_the_signed_in(staff):
    request = RequestFactory().get("/cases/")
    request.user = staff

    body = assert_error_page(error_pages.server_error(request), 500, "系统出现了问题。")
    assert_home_and_back(body)


def test_the_server_error_page_survives_a_user_that_cannot_be_loaded():
    class Broken:
        @property
        def is_authenticated(self):
            raise RuntimeError("no database")

    request = RequestFactory().get("/cases/")
    request.user = Broken()

    assert_back_only(error_pages.server_error(request).content.decode())


# --- a form that expired (CSRF) -------------------------------------------------------------


@pytest.mark.django_db
def test_a_residents_expired_form_says_to_go_back_and_send_again():
    client = Client(enforce_csrf_checks=True)

    response = client.post("/r/500103001001/", {"text": "楼上漏水"})

    body = assert_error_page(
        response, 403, "表单已过期，内容没有提交。", "请返回上一页并刷新", "允许本网站使用 Cookie"
    )
    assert_back_only(body)


def test_a_workers_expired_form_says_so_and_offers_home(staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)

    response = client.post(reverse("disputes:file"), {"cause": "拖欠工资"})

    body = assert_error_page(response, 403, "表单已过期，内容没有提交。", "在其他标签页登录或退出")
    assert_home_and_back(body)


def test_the_csrf_failure_view_is_ours(settings):
    assert settings.CSRF_FAILURE_VIEW == "grid_governance.error_pages.csrf_failure"
    for code in (400, 403, 404, 500):
        assert get_resolver().resolve_error_handler(code).__module__ == error_pages.__name__


# --- which pages are public -----------------------------------------------------------------


def test_every_public_page_is_known_as_public():
    addresses = [reverse("reception_days:public", args=["500103001001"])]
    for pattern in public_urls.urlpatterns:
        kwargs = {name: "png" for name in pattern.pattern.converters}
        addresses.append(reverse(f"resident_public:{pattern.name}", kwargs=kwargs))

    assert all(error_pages.public_path(a) for a in addresses), addresses
    assert not error_pages.public_path(reverse("residents:callbacks"))  # staff, under /residents/
    assert not error_pages.public_path("/cases/")

"""Error pages a user can meet (a bad QR code, a page outside their role, a crash) are in
Chinese, styled and phone-sized, and never show a debug page."""

import pytest
from django.test import RequestFactory
from django.views.defaults import server_error


@pytest.mark.django_db
def test_a_missing_page_answers_in_chinese_on_a_phone_sized_page(client, settings):
    settings.DEBUG = False

    response = client.get("/no-such-page/")

    body = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在，或您无权查看。" in body
    assert 'name="viewport"' in body and "bootstrap.min.css" in body


def test_the_server_error_page_needs_no_context_and_speaks_chinese():
    response = server_error(RequestFactory().get("/"))

    body = response.content.decode()
    assert response.status_code == 500
    assert "系统出现了问题。" in body and 'name="viewport"' in body

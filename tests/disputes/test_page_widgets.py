"""The case page's action forms, written in Python (common.widgets), give the page the same
markup as Django's widget templates did."""

import re

import pytest
from django.urls import reverse

from common import widgets
from tests.disputes import test_pages
from tests.disputes.test_pages import file_case, login

pytestmark = pytest.mark.django_db
world = test_pages.world  # the fixture

# Per response: the CSRF token is masked anew and the live-update token is signed with the time.
PER_RESPONSE = re.compile(r'(value="|X-CSRFToken": "|data-live-token="|data-live-at=")[^"]*"')


def page(client, url) -> str:
    return PER_RESPONSE.sub(r'\1…"', client.get(url).content.decode())


@pytest.mark.parametrize("username", ["street", "gridworker"])
def test_the_case_page_is_the_same_with_the_template_widgets(client, world, monkeypatch, username):
    case = file_case(world)
    login(client, world, username)
    url = reverse("disputes:detail", args=[case.pk])
    ours = page(client, url)
    assert "<textarea" in ours  # the action forms are there
    if username == "street":
        assert '<select name="assign-mediator"' in ours
    monkeypatch.setattr(widgets.PythonRendered, "written_here", lambda self: False)
    assert page(client, url) == ours

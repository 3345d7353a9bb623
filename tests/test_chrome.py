"""base.html's parts rendered once per language (grid_governance/chrome.py) and the menu
worked out once per set of roles (grid_governance/navigation.py) give every page exactly
what rendering them afresh gives, in each language, and nothing of another user."""

import re

import pytest
from django.contrib.messages.storage import default_storage
from django.contrib.sessions.backends.db import SessionStore
from django.template import Context, Template, TemplateSyntaxError, engines
from django.template.loader import render_to_string
from django.test import RequestFactory, override_settings
from django.urls import resolve
from django.utils import translation
from django.utils.translation import gettext

from grids.models import Role
from tests.factories import SuperuserFactory, Tree, UserFactory, assign

pytestmark = pytest.mark.django_db

# Differ on every rendering: the masked CSRF token, the live-updates token and its time.
PER_RENDERING = [
    (re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+'), r"\1…"),
    (re.compile(r'("X-CSRFToken": ")[^"]+'), r"\1…"),
    (re.compile(r'(data-live-(?:token|at)=")[^"]+'), r"\1…"),
]


def request_for(user, path="/cases/mine/"):
    request = RequestFactory().get(path)
    request.resolver_match = resolve(path)
    request.user = user
    request.session = SessionStore()
    request._messages = default_storage(request)
    return request


def normalised(html: str) -> str:
    for pattern, replacement in PER_RENDERING:
        html = pattern.sub(replacement, html)
    return html


def afresh(request) -> str:
    """base.html without its per_language blocks: every part rendered for this request."""
    engine = engines["django"]
    with open(engine.engine.find_template("base.html")[0].origin.name) as file:
        source = file.read()
    source = source.replace("{% per_language %}", "").replace("{% end_per_language %}", "")
    assert "per_language" not in source.replace(" chrome %}", " %}")
    return engine.from_string(source).render(request=request)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_base_page_is_what_a_fresh_rendering_gives(language):
    tree = Tree()
    worker, staff = UserFactory(real_name="网格员甲"), SuperuserFactory(real_name="管理员")
    assign(worker, Role.GRID_WORKER, tree.grids[0])
    with translation.override(language):
        for user in (worker, staff, worker):  # the second worker's page: from the memo
            request = request_for(user)
            page = render_to_string("base.html", request=request)
            assert normalised(page) == normalised(afresh(request_for(user)))
            assert user.display_name in page
    # Each language its own: the Chinese page does not show the English one's labels.
    with translation.override("zh-hans"):
        chinese = render_to_string("base.html", request=request_for(worker))
    with translation.override("en"):
        english = render_to_string("base.html", request=request_for(worker))
    with translation.override("zh-hans"):
        brand = gettext("Grid governance")
    assert brand != "Grid governance"
    assert brand in chinese and "Grid governance" in english
    assert "Grid governance" not in chinese and brand not in english


def test_menus_follow_roles():
    tree = Tree()
    worker, secretary = UserFactory(), UserFactory()
    assign(worker, Role.GRID_WORKER, tree.grids[0])
    assign(secretary, Role.COMMUNITY_SECRETARY, tree.communities[0])
    with translation.override("zh-hans"):
        worker_page = render_to_string("base.html", request=request_for(worker))
        secretary_page = render_to_string("base.html", request=request_for(secretary))
    assert 'href="/dashboard/"' not in worker_page
    assert 'href="/dashboard/"' in secretary_page
    # The page's own entry, marked for screen readers too; no other.
    assert worker_page.count('aria-current="page"') == 1
    assert 'class="nav-link active" aria-current="page" href="/cases/mine/"' in worker_page


def test_settings_changes_are_followed():
    user = UserFactory()
    with override_settings(STATIC_URL="/elsewhere/"):
        page = render_to_string("base.html", request=request_for(user))
        assert 'href="/elsewhere/css/app.css"' in page
    page = render_to_string("base.html", request=request_for(user))
    assert "/elsewhere/" not in page


def test_blocks_show_nothing_of_the_request():
    template = Template(
        "{% load chrome i18n %}{% per_language %}[{{ secret }}]"
        "{% get_current_language as code %}{{ code }}{% end_per_language %}"
    )
    with translation.override("en"):
        assert template.render(Context({"secret": "甲的"})) == "[]en"
        assert template.render(Context({"secret": "乙的"})) == "[]en"
    with translation.override("zh-hans"):
        assert template.render(Context({"secret": "甲的"})) == "[]zh-hans"
    with pytest.raises(TemplateSyntaxError, match="csrf_token"):
        Template("{% load chrome %}{% per_language %}{% csrf_token %}{% end_per_language %}")

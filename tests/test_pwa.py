"""The installable app's manifest and service worker: Chinese, at the site root, naming the
static files by the URLs the pages use, and changing version when what they cache changes."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse

from grid_governance import pwa


@pytest.mark.django_db
def test_the_manifest_is_valid_and_chinese(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(0):
        response = client.get(reverse("manifest"))

    assert response["Content-Type"] == "application/manifest+json"
    body = json.loads(response.content)
    assert body["name"] == "网格化矛盾纠纷调处" and body["short_name"] == "纠纷登记"
    assert body["display"] == "standalone" and body["scope"] == "/"
    assert body["start_url"].startswith(reverse("disputes:file"))
    assert {icon["sizes"] for icon in body["icons"]} == {"192x192", "512x512"}
    for icon in body["icons"]:
        name = icon["src"].removeprefix(static(""))
        assert finders.find(name), name


@pytest.mark.django_db
def test_the_worker_is_served_from_the_root_uncached(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(0):
        response = client.get("/sw.js")

    assert response["Content-Type"] == "application/javascript"
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    text = response.content.decode()
    for name in pwa.OFFLINE_ASSETS:
        assert json.dumps(static(name)) in text or static(name) in text
        assert finders.find(name), name
    assert json.dumps(reverse("disputes:file")) in text
    assert json.dumps("没有网络") in text  # the offline page, in Chinese


def test_the_worker_version_follows_what_it_caches(settings, monkeypatch):
    def version():
        pwa._worker_source.cache_clear()
        return re.search(r'const VERSION = "(\w+)"', pwa._worker_source("zh-hans")).group(1)

    before = version()
    monkeypatch.setattr(pwa, "OFFLINE_ASSETS", (*pwa.OFFLINE_ASSETS, "css/dashboard.css"))
    after = version()
    pwa._worker_source.cache_clear()

    assert len(before) == 12 and before != after


@pytest.mark.django_db
def test_every_page_links_the_manifest_and_loads_the_offline_script(client, demo):
    from grids.models import User

    client.force_login(User.objects.get(username="gridworker"))
    page = client.get(reverse("disputes:file")).content.decode()

    assert f'<link rel="manifest" href="{reverse("manifest")}">' in page
    assert static("js/offline.js") in page
    assert 'data-draft="filing"' in page and 'id="offline-outbox"' in page
    assert 'data-user="gridworker"' in page

"""The installable web app: its manifest and its service worker.

Both are served by Django, not as static files: the worker must live at the site root to
control every page (a worker under /static/ would only see /static/), and both name static
files by their hashed production URLs, which only `{% static %}` knows. The worker's version
is a hash of what it precaches and of its own text, so a deploy that changes either installs
a new worker and drops the old caches."""

import hashlib
import json
from functools import lru_cache

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control

# What a grid worker needs to file with no signal: the page's own styles and scripts. The
# filing page itself (with the worker's areas and the dispute types) is cached per user
# when they open it; see templates/pwa/sw.js.
OFFLINE_ASSETS = (
    "vendor/bootstrap/bootstrap.min.css",
    "css/app.css",
    "vendor/htmx/htmx.min.js",
    "vendor/bootstrap/bootstrap.bundle.min.js",
    "js/app.js",
    "js/offline.js",
    "js/filing.js",
    "icons/icon-192.png",
)


@cache_control(max_age=3600)
def manifest(request):
    body = {
        "name": _("Grid dispute resolution"),
        "short_name": _("Dispute filing"),
        "description": _("File and follow neighbourhood disputes, with or without a signal."),
        "lang": "zh-CN",
        "start_url": reverse("disputes:file") + "?source=home-screen",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#0d6efd",
        "icons": [
            {"src": static(f"icons/icon-{n}.png"), "sizes": f"{n}x{n}", "type": "image/png"}
            for n in (192, 512)
        ],
    }
    return HttpResponse(
        json.dumps(body, ensure_ascii=False), content_type="application/manifest+json"
    )


@lru_cache(maxsize=8)
def _worker_source(language: str) -> str:
    assets = [static(name) for name in OFFLINE_ASSETS]
    context = {
        "assets_json": json.dumps(assets),
        "static_prefix_json": json.dumps(
            settings.STATIC_URL
            if settings.STATIC_URL.startswith("/")
            else "/" + settings.STATIC_URL
        ),
        "filing_url_json": json.dumps(reverse("disputes:file")),
        "offline_title_json": json.dumps(_("No signal")),
        "offline_text_json": json.dumps(
            _("This page was not saved on the phone. Open the filing page: it works offline.")
        ),
    }
    text = render_to_string("pwa/sw.js", {**context, "version": ""})
    version = hashlib.sha256(text.encode()).hexdigest()[:12]
    return render_to_string("pwa/sw.js", {**context, "version": version})


# The browser checks for a new worker on every navigation; no-cache makes it ask us.
@cache_control(no_cache=True)
def service_worker(request):
    # DEBUG serves unhashed static files that change under the developer: no memo there.
    make = _worker_source.__wrapped__ if settings.DEBUG else _worker_source
    source = make(get_language())
    response = HttpResponse(source, content_type="application/javascript")
    response["Service-Worker-Allowed"] = "/"
    return response

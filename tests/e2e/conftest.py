"""Browser tests: real users clicking through the live app in Debian's Chromium.

Playwright's sync API runs an event loop in the test thread, and Django refuses ORM calls
from a thread with a running loop. The test thread only seeds and checks data while the live
server thread serves the browser, so the guard is a false alarm here."""

import os
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from grids.demo import DEMO_PASSWORD
from tests.conftest import chromium_path, service_missing
from tests.e2e.helpers import PHONE_WIDTH, png_bytes

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Fail fast: every page here renders in well under a second.
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    path = chromium_path()
    if path is None:
        service_missing("chromium not installed")
    return {**browser_type_launch_args, "executable_path": path, "args": CHROMIUM_ARGS}


@pytest.fixture
def seeded(live_server, transactional_db, settings):
    """The demo district, its people and the dispute types, in the live server's database."""
    from disputes.demo import seed_categories
    from grids.demo import seed

    # The demo seeds 14 users; PBKDF2 would cost seconds per test without testing anything.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    seed()
    seed_categories()
    return live_server


@pytest.fixture
def server_url(seeded) -> str:
    return seeded.url


def _context(new_context, **kwargs):
    """A browser context that fails the test if any page breaks the Content-Security-Policy
    (an inline script or handler the policy blocks would leave a button dead)."""
    context = new_context(**kwargs)
    context.set_default_timeout(TIMEOUT_MS)
    context.csp_violations = []

    def on_console(message):
        if message.type == "error" and "Content Security Policy" in message.text:
            context.csp_violations.append(message.text)

    context.on("console", on_console)
    return context


def _without_csp_violations(context):
    yield context
    assert context.csp_violations == [], context.csp_violations


@pytest.fixture
def phone(new_context, seeded):
    """A small Android phone. Its locale is Chinese, as most users' phones are."""
    yield from _without_csp_violations(
        _context(
            new_context,
            viewport={"width": PHONE_WIDTH, "height": 740},
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
        )
    )


@pytest.fixture
def desktop(new_context, seeded):
    """An office PC whose browser asks for English: the product must still be Chinese."""
    yield from _without_csp_violations(
        _context(new_context, viewport={"width": 1280, "height": 900}, locale="en-US")
    )


@pytest.fixture
def login(server_url):
    def login(page, username: str, password: str = DEMO_PASSWORD):
        page.goto(f"{server_url}/accounts/login/")
        expect(page.get_by_role("heading", name="登录")).to_be_visible()
        page.locator("#id_username").fill(username)
        page.locator("#id_password").fill(password)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    return login


@pytest.fixture
def open_nav():
    """Follows a link in the main navigation, opening the collapsed menu first on a phone."""

    def open_nav(page, label: str):
        nav = page.locator("#main-nav")
        if not nav.is_visible():
            page.locator(".navbar-toggler").click()
            # Bootstrap sets "show" once the collapse animation is over; a click while
            # the menu is still unfolding can land nowhere (seen under load in CI).
            expect(nav).to_have_class(re.compile(r"\bshow\b"))
        with page.expect_navigation():
            nav.get_by_role("link", name=label, exact=True).click()

    return open_nav


@pytest.fixture
def png_file(tmp_path):
    path = tmp_path / "现场照片.png"
    path.write_bytes(png_bytes())
    return path


@pytest.fixture
def wage_case(seeded):
    """A wage-arrears dispute filed by the demo grid worker, with one photo."""
    from disputes import services
    from disputes.models import Category, Channel
    from grids.models import Area, User

    return services.case_file(
        actor=User.objects.get(username="gridworker"),
        area=Area.objects.get(code="500103001001G01"),
        category=Category.objects.get(code="1001"),
        cause="某工地拖欠12名农民工工资",
        address="民生路88号在建工地",
        channel=Channel.GRID_WORKER,
        people_involved=13,
        parties=[
            {"side": "applicant", "kind": "person", "name": "李大山", "phone": "13912345678"},
            {"side": "respondent", "kind": "organisation", "name": "重庆某某建筑劳务有限公司"},
        ],
        photos=[SimpleUploadedFile("工地.png", png_bytes(), content_type="image/png")],
    )

"""Live pages in a real browser: two people, two browsers. The community secretary assigns a
case on her PC; the mediator's home page, open on his phone all along, shows the message and
the badge within two seconds, without reloading; he follows it and it is read.

pytest-django's live server speaks WSGI only, so these tests start uvicorn (the ASGI app, as
`make run` and `make asgi` serve it) in a process of its own on the test database. That needs
PostgreSQL (an in-memory SQLite database cannot be shared with another process). With Redis
the server's channel layer is Redis pub/sub (database 5, this run's own key prefix), so a
change made in the test process reaches the page too, as a Celery worker's would."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import redis
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from playwright.sync_api import expect

from disputes import services
from disputes.demo import seed_categories
from disputes.models import Case
from grids.demo import DEMO_PASSWORD
from grids.demo import seed as seed_people
from grids.models import User
from notifications.models import Notification
from notifications.services import notify
from tests.conftest import service_missing
from tests.e2e.helpers import assert_no_horizontal_scroll

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("LIVE_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
# The acceptance bar: another person's change shows within two seconds.
LIVE_MS = 2000


def redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Uvicorn:
    """uvicorn serving the app on the test database, in a process of its own."""

    def __init__(self, env: dict):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(Path(env["MEDIA_ROOT"]).parent / f"uvicorn-{self.port}.log", "w+b")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "grid_governance.asgi:application",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.wait_until_up()

    def wait_until_up(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                urllib.request.urlopen(f"{self.url}/accounts/login/", timeout=10)
                return
            except OSError:  # refused while starting, or a first answer slower than that
                time.sleep(0.2)
        self.stop()
        self.log.seek(0)
        pytest.fail(f"uvicorn did not start:\n{self.log.read().decode(errors='replace')}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.fixture
def prefix():
    """This test's own prefix for every Redis key and pub/sub channel; removed afterwards."""
    name = f"test-live-e2e-{uuid.uuid4().hex}:"
    yield name
    if redis_answers():
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"{name}*", count=500):
            client.delete(key)
        for key in client.scan_iter(match=f":1:{name}*", count=500):
            client.delete(key)


@pytest.fixture
def start_server(transactional_db, tmp_path, prefix):
    """Starts uvicorn on the test database (the environment's settings plus `extra`)."""
    if connection.vendor != "postgresql":
        service_missing("the live pages' browser test needs PostgreSQL (a database uvicorn shares)")
    servers = []
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    (tmp_path / "media").mkdir(exist_ok=True)

    def start(**extra) -> Uvicorn:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            # As `make run`: static files from the app folders, plain HTTP.
            "DEBUG": "1",
            "MEDIA_ROOT": str(tmp_path / "media"),
            "REDIS_URL": REDIS_URL if redis_answers() else "",
            "CELERY_KEY_PREFIX": prefix,
            "CACHE_KEY_PREFIX": prefix,
            "LIVE_CHANNEL_PREFIX": prefix,
            **extra,
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        servers.append(Uvicorn(env))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def real_passwords(*usernames):
    """The demo's users were saved with the test suite's quick MD5 hashes, which the server
    (production settings) does not accept: PBKDF2 ones, with few rounds, for these."""
    hasher = PBKDF2PasswordHasher()
    for name in usernames:
        encoded = hasher.encode(DEMO_PASSWORD, hasher.salt(), iterations=1000)
        User.objects.filter(username=name).update(password=encoded)


@pytest.fixture
def seeded(start_server):
    """Overrides conftest's: the demo district, served by uvicorn instead of the WSGI thread."""
    seed_people()
    seed_categories()
    real_passwords("secretary", "mediator", "gridworker")
    return start_server()


@pytest.fixture
def server_url(seeded) -> str:
    return seeded.url


def open_socket(page):
    """The page's socket is up (live.js marks <body data-live-state>)."""
    expect(page.locator("body")).to_have_attribute("data-live-state", "open")


def test_an_assignment_reaches_the_mediators_open_home_page_at_once(
    wage_case, phone, desktop, login, server_url
):
    mediator = login(phone.new_page(), "mediator")
    open_socket(mediator)
    badge = mediator.locator("nav.navbar [data-testid=unread-count]")
    expect(mediator.get_by_test_id("no-new-messages")).to_be_visible()
    expect(badge).to_have_count(0)

    secretary = login(desktop.new_page(), "secretary")
    secretary.goto(f"{server_url}/cases/{wage_case.pk}/")
    assign = secretary.locator("details[data-action=assign]")
    assign.locator("summary").click()
    assign.locator("select[name='assign-mediator']").select_option(label="赵调解")
    assign.get_by_role("button", name="分派").click()
    expect(secretary.locator("#timeline li[data-event=assigned]")).to_contain_text("赵调解")
    assigned = time.monotonic()

    message = mediator.locator("#recent-messages li[data-notification]")
    expect(message).to_contain_text(f"案件已分派给您：{wage_case.number}", timeout=LIVE_MS)
    expect(badge).to_contain_text("1", timeout=LIVE_MS)
    assert time.monotonic() - assigned < LIVE_MS / 1000 + 0.5
    assert_no_horizontal_scroll(mediator)

    message.get_by_role("link").click()
    mediator.wait_for_url(f"**/cases/{wage_case.pk}/")
    expect(mediator.locator("#case-panel")).to_contain_text("赵调解")
    # Read: the badge goes, on this page too (a read is published like any change).
    expect(mediator.locator("nav.navbar [data-testid=unread-count]")).to_have_count(0)
    note = Notification.objects.get(recipient__username="mediator", case=wage_case)
    assert note.read_at is not None


@pytest.fixture
def publish_through_redis(settings, prefix):
    """This (test) process publishes to the server's Redis channels, as a worker would."""
    if not redis_answers():
        service_missing(f"Redis at {REDIS_URL} is needed to publish from another process")
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": prefix},
        }
    }


def test_a_case_page_follows_changes_made_elsewhere_but_not_under_the_users_hands(
    wage_case, desktop, login, server_url, publish_through_redis
):
    secretary_user = User.objects.get(username="secretary")
    page = login(desktop.new_page(), "secretary")
    page.goto(f"{server_url}/cases/{wage_case.pk}/")
    open_socket(page)
    status = page.locator("#case-panel [data-testid=status]")
    expect(status).to_have_text("已提交")

    # Changed by another process while she only looks: the panel follows.
    services.case_accept(case=wage_case, actor=secretary_user)
    expect(status).to_have_text("已受理", timeout=LIVE_MS)

    # Changed while she is choosing a mediator: her form stays, she is told, she decides.
    assign = page.locator("details[data-action=assign]")
    assign.locator("summary").click()
    assign.locator("select[name='assign-mediator']").select_option(label="赵调解")
    services.case_assign(
        case=Case.objects.get(pk=wage_case.pk), actor=secretary_user,
        mediator=User.objects.get(username="mediator"),
    )  # fmt: skip
    stale = page.get_by_test_id("live-stale")
    expect(stale).to_contain_text("其他人刚刚更新了这里。", timeout=LIVE_MS)
    expect(assign).to_have_attribute("open", "")
    expect(status).to_have_text("已受理")
    stale.get_by_role("button", name="显示最新内容").click()
    expect(status).to_have_text("已分派")
    expect(page.locator("#timeline li[data-event=assigned]")).to_contain_text("赵调解")
    expect(stale).to_have_count(0)


def test_without_a_socket_the_page_polls(wage_case, phone, start_server, seeded):
    """No ASGI server where the page looks for it (plain gunicorn): the page still updates,
    by fetching its live parts every LIVE_POLL_SECONDS."""
    dead = f"ws://127.0.0.1:{free_port()}/ws/live/"
    server = start_server(LIVE_URL=dead, LIVE_POLL_SECONDS="1")
    page = phone.new_page()
    page.goto(f"{server.url}/accounts/login/")
    page.locator("#id_username").fill("mediator")
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{server.url}/")
    expect(page.get_by_test_id("no-new-messages")).to_be_visible()

    notify(users=[User.objects.get(username="mediator")], case=wage_case, kind="test",
           title="请尽快联系当事人")  # fmt: skip

    expect(page.locator("#recent-messages")).to_contain_text("请尽快联系当事人", timeout=4000)
    expect(page.locator("nav.navbar [data-testid=unread-count]")).to_contain_text("1")
    expect(page.locator("body")).to_have_attribute("data-live-state", "closed")

import os
import shutil

import pytest
from django.conf import settings
from django.core.cache import cache

from grid_governance.celery import app as celery_app
from notifications.tasks import QUEUED_KEY

REQUIRE_SERVICES = settings.REQUIRE_SERVICES


def service_missing(reason: str):
    """Skip locally, fail in CI: a test that needs a service must not pass silently."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Every test user's password is hashed with MD5: PBKDF2 costs ~0.1 s per user and tests
    nothing here (the login tests check behaviour, not the hash's strength)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _long_sessions(settings):
    """Many tests log in and then move the clock by days; a login lasts 12 hours in the
    product (SESSION_COOKIE_AGE), which tests/security/test_logins.py checks itself."""
    settings.SESSION_COOKIE_AGE = 60 * 24 * 3600


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _no_delivery_queued():
    """The mark "a delivery task is queued" lives in the shared cache (notifications/tasks.py),
    which outlives a test's database: each test starts without it."""
    cache.delete(QUEUED_KEY)


@pytest.fixture
def celery_eager():
    """Run tasks in-process (Celery's own eager mode) for tests of the code around them.
    The real worker is exercised by the integration tests."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def demo(db):
    """The demo district and its people (see grids/demo.py)."""
    from grids.demo import seed

    seed()


def chromium_path() -> str | None:
    return shutil.which("chromium") or (
        "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
    )


def pytest_collection_modifyitems(session, config, items):
    """Browser tests last: Playwright's sync API leaves an event loop behind in the test
    thread, which the Channels socket tests (async_to_sync) after them would trip over, and
    their live server's database flushes empty the data migrations' rows that later tests
    read. Stable otherwise: the order within each group is kept."""
    items.sort(key=lambda item: "/tests/e2e/" in str(item.path).replace("\\", "/"))

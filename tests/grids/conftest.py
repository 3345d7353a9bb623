import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Django's default PBKDF2 costs ~1 s per password on this machine; tests of areas and
    # scopes do not test hashing, and the demo fixture alone hashes 14 passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def celery_eager(celery_eager):
    """The shared fixture, minus the result store: eager tasks keep no result here, so the
    tests do not depend on `var/results/` (the file result backend's folder, which only
    `bin/run-dev` creates) existing on this machine."""
    from celery.backends.base import DisabledBackend

    from grid_governance.celery import app

    saved = app._backend_cache
    app._backend_cache = DisabledBackend(app=app)
    yield
    app._backend_cache = saved

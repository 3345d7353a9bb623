import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Django's default PBKDF2 costs ~1 s per password on this machine; tests of areas and
    # scopes do not test hashing, and the demo fixture alone hashes 14 passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

from contextlib import contextmanager

from django.db import transaction
from django.test import override_settings


@contextmanager
def module_transaction(django_db_blocker):
    """For a module-scoped fixture: what it builds lives in an outer transaction rolled back
    when the module ends (each test runs in a savepoint within it)."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
    ):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)

"""Personal data encrypted at rest. The PIPL counts ID numbers as sensitive personal
information: a database dump, a backup or a replica must not give them away.

Fernet (AES-128-CBC with an HMAC) with the key(s) in FIELD_ENCRYPTION_KEYS: the first
encrypts, every one decrypts, so a key is rotated by putting the new one first and
re-saving. An encrypted column can be neither searched nor sorted: nothing does either with
ID numbers."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core import checks
from django.db import models

PREFIX = "fernet:"


def _cipher() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in settings.FIELD_ENCRYPTION_KEYS])


def derived_key(secret: str) -> str:
    """A Fernet key from another secret (development and tests only: see the deploy check)."""
    return base64.urlsafe_b64encode(hashlib.sha256(f"fields:{secret}".encode()).digest()).decode()


def encrypt(value: str) -> str:
    if not value or value.startswith(PREFIX):
        return value
    return PREFIX + _cipher().encrypt(value.encode()).decode()


def decrypt(value: str | None) -> str | None:
    if not value or not value.startswith(PREFIX):
        return value  # empty, or a row written before encryption (migrated at once)
    try:
        return _cipher().decrypt(value[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ValueError("FIELD_ENCRYPTION_KEYS cannot decrypt a stored value") from exc


class EncryptedTextField(models.TextField):
    """A short text stored encrypted; read back as plain text."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value)

    def to_python(self, value):
        return decrypt(value) if isinstance(value, str) else value

    def get_prep_value(self, value):
        return encrypt(super().get_prep_value(value))


@checks.register(checks.Tags.security, deploy=True)
def check_encryption_key(app_configs, **kwargs):
    if not settings.FIELD_ENCRYPTION_KEY_FROM_ENV:
        return [
            checks.Warning(
                "FIELD_ENCRYPTION_KEY is not set: ID numbers are encrypted with a key derived "
                "from SECRET_KEY, so changing SECRET_KEY would make them unreadable.",
                hint="Set FIELD_ENCRYPTION_KEY (Fernet.generate_key()) and keep it safe.",
                id="grid.W001",
            )
        ]
    return []

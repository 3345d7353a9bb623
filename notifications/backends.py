"""SMS backends. Production plugs in a provider by subclassing BaseSmsBackend and pointing
the SMS_BACKEND setting at it; the console backend prints, for development and demos."""

import sys

from django.conf import settings
from django.utils.module_loading import import_string


class BaseSmsBackend:
    def send(self, *, phone: str, text: str) -> None:
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    def send(self, *, phone: str, text: str) -> None:
        sys.stdout.write(f"[SMS to {phone}] {text}\n")
        sys.stdout.flush()


class MemorySmsBackend(BaseSmsBackend):
    """Keeps messages in `outbox` (a list on the class), like Django's locmem email backend."""

    outbox: list[dict] = []

    def send(self, *, phone: str, text: str) -> None:
        type(self).outbox.append({"phone": phone, "text": text})


def get_sms_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()

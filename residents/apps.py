from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResidentsConfig(AppConfig):
    """The public side: residents report by QR code, follow their case and rate it; street
    staff call back a sample of closed cases. Kept apart from the staff apps on purpose: every
    view here that needs no login lives in this app and nowhere else."""

    name = "residents"
    verbose_name = _("Residents")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReceptionDaysConfig(AppConfig):
    name = "reception_days"
    verbose_name = _("Reception days")

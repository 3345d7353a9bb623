from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridsConfig(AppConfig):
    name = "grids"
    verbose_name = _("Areas and staff")

    def ready(self):
        from . import tokens  # noqa: F401  (connects the token revocation receiver)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisputesConfig(AppConfig):
    name = "disputes"
    verbose_name = _("Dispute cases")

    def ready(self):
        from . import (
            department_timers,  # noqa: F401  (registers the sign-for timer handler)
            signals,  # noqa: F401  (connects the area_moved receiver)
            supervision_timers,  # noqa: F401  (the check and card timer handlers)
        )

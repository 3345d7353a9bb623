from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    """Linkage referrals (联动): cases that arrive from or go to the linked bodies (petition,
    police, procuratorate, court, legal aid, administrative), with the partner's own case
    number and result; court-entrusted mediations with their 30-day limit."""

    name = "referrals"
    verbose_name = _("Linkage referrals")

    def ready(self):
        from disputes import case_sections

        from . import timers  # noqa: F401  (registers the court-entrusted limit's handlers)
        from .views import case_section

        case_sections.register(case_section)

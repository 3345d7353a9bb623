from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasefilesConfig(AppConfig):
    """The mediation file (卷宗): one PDF per case, archived on close."""

    name = "casefiles"
    verbose_name = _("Mediation files")

    def ready(self):
        from disputes import case_file, case_sections

        from . import receivers  # noqa: F401  (a close archives the file)
        from .documents import PROVIDERS
        from .views import case_section

        for provider in PROVIDERS:
            case_file.register(provider)
        case_sections.register(case_section)

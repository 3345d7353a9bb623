from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediationConfig(AppConfig):
    name = "mediation"
    verbose_name = _("Mediation")

    def ready(self):
        # The case page's 调解 section, the case file's documents and the deadlines' handlers
        # are registered here: disputes (below us) asks the registries, never this app.
        from disputes import case_file, case_sections

        from . import sections, timers  # noqa: F401  (timers registers its handlers)
        from .casefile import documents

        case_sections.register(sections.render)
        case_file.register(documents)

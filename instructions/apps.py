from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class InstructionsConfig(AppConfig):
    name = "instructions"
    verbose_name = pgettext_lazy("leaders' instructions", "Instructions")

    def ready(self):
        from . import timers  # noqa: F401  (registers the acknowledgement deadline's handler)

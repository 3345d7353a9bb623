from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasefilesConfig(AppConfig):
    """The mediation file (卷宗): one PDF per case, archived on close."""

    name = "casefiles"
    verbose_name = _("Mediation files")

"""The words every layer uses about a case: its status and its risk level.

They live below the apps because the SLA clock (which statuses keep a clock running, which
risk level a policy is for) sits below the workflow that owns the case."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RiskLevel(models.TextChoices):
    ORDINARY = "ordinary", _("Ordinary")
    MAJOR = "major", _("Major")
    SERIOUS = "serious", _("Serious")


class CaseStatus(models.TextChoices):
    FILED = "filed", _("Submitted")
    SENT_BACK = "sent_back", _("Sent back")
    ACCEPTED = "accepted", _("Accepted")
    ASSIGNED = "assigned", _("Assigned")
    IN_MEDIATION = "in_mediation", _("In mediation")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REFERRED = "referred", _("Referred")


OPEN_STATUSES = (
    CaseStatus.FILED,
    CaseStatus.SENT_BACK,
    CaseStatus.ACCEPTED,
    CaseStatus.ASSIGNED,
    CaseStatus.IN_MEDIATION,
)

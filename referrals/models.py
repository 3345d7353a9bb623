"""Linkage referrals (联动调解): one row per case sent to, or received from, a linked body."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from disputes.models import Case

# A court-entrusted mediation (委派/委托调解) must end within 30 days; the parties may agree
# to one extension of up to 30 days more.
ENTRUSTED_LIMIT = timedelta(days=30)
EXTENSION = timedelta(days=30)
# The mediator and the unit are warned this long before the limit.
WARN_BEFORE = timedelta(days=5)

# The exactly-once timers (sla/timers.py) of the limit, one per referral.
LIMIT_WARNING = "referrals.limit_warning"
LIMIT_DUE = "referrals.limit_due"


class LinkageKind(models.TextChoices):
    PETITION = "petition", _("Petition–mediation (访调)")
    POLICE = "police", _("Police–mediation (警调/公调)")
    PROCURATORATE = "procuratorate", _("Procuratorate–mediation (检调)")
    COURT = "court", _("Court–mediation (诉调)")
    LEGAL_AID = "legal_aid", _("Legal aid–mediation (援调)")
    ADMINISTRATIVE = "administrative", _("Administrative–mediation (行调)")


class Direction(models.TextChoices):
    IN = "in", _("Received from the linked body")
    OUT = "out", _("Sent to the linked body")


class Entrustment(models.TextChoices):
    NONE = "", _("Not court-entrusted")
    DELEGATED = "delegated", _("Delegated before filing (委派调解)")
    ENTRUSTED = "entrusted", _("Entrusted after filing (委托调解)")


class Result(models.TextChoices):
    AGREEMENT = "agreement", _("Settled by agreement")
    PARTIAL = "partial", _("Partly settled")
    FAILED = "failed", _("Not settled")
    RETURNED = "returned", _("Returned without handling")
    OTHER = "other", _("Other")


class ReferralQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The referrals of the cases the user may see (a subquery: one indexed lookup)."""
        return self.filter(case__in=Case.objects.visible_to(user).values("pk"))


class Referral(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting the result")
        FINISHED = "finished", _("Finished")

    case = models.ForeignKey(
        "disputes.Case", verbose_name=_("case"), on_delete=models.CASCADE, related_name="referrals"
    )
    kind = models.CharField(_("linkage"), max_length=16, choices=LinkageKind.choices)
    direction = models.CharField(_("direction"), max_length=4, choices=Direction.choices)
    partner = models.CharField(_("partner organisation"), max_length=100)
    partner_case_number = models.CharField(_("partner's case number"), max_length=64, blank=True)
    entrustment = models.CharField(
        _("court entrustment"), max_length=16, choices=Entrustment.choices, blank=True
    )
    note = models.TextField(_("note"), blank=True)
    started_at = models.DateTimeField(_("referred at"))
    # Court-entrusted only: the limit, moved once by the parties' consent.
    due_at = models.DateTimeField(_("limit"), null=True, blank=True)
    extended_at = models.DateTimeField(_("extended at"), null=True, blank=True)
    extension_reason = models.TextField(_("reason for the extension"), blank=True)
    overdue_at = models.DateTimeField(_("limit missed at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    result = models.CharField(_("result"), max_length=16, choices=Result.choices, blank=True)
    result_note = models.TextField(_("result details"), blank=True)
    result_at = models.DateTimeField(_("result recorded at"), null=True, blank=True)
    finished_on_time = models.BooleanField(_("finished within the limit"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    result_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        verbose_name = _("linkage referral")
        verbose_name_plural = _("linkage referrals")
        ordering = ["-started_at", "-id"]
        indexes = [
            # The case page's section and the API's ?case= filter.
            models.Index(fields=["case", "started_at"], name="referral_case_started"),
            # The figures: referrals started in a period, grouped by kind and direction.
            models.Index(fields=["started_at"], name="referral_started"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(entrustment="") | Q(kind="court", direction="in", due_at__isnull=False),
                name="referral_entrusted_is_court_in",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", result="") | Q(status="finished") & ~Q(result=""),
                name="referral_result_when_finished",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.get_direction_display()} {self.partner}"

    @property
    def entrusted(self) -> bool:
        return bool(self.entrustment)

    @property
    def may_extend(self) -> bool:
        return self.entrusted and self.status == self.Status.PENDING and not self.extended_at

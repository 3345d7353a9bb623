"""Supervision cards (督办卡): a yellow card when a step of a case misses its time limit, a
red one when it stays overdue or unanswered past the policy's threshold, or a card issued
by hand by a level above (督办 / 催办). The responsible unit answers each (反馈) within a
time limit; cards are listed per unit and count in the monthly assessment.

An automatic card is issued once per case, step and colour (a database constraint: the
sweep that records a breach issues it in the same transaction, and a sweep after an outage
issues it once). Kept out of models.py, which imports it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# The shared timers (sla.timers) of a card's answer and of its turning red, and of a
# resolution's check; handled in disputes/supervision_timers.py.
CARD_REPLY_DUE = "disputes.card_reply_due"
CARD_RED_DUE = "disputes.card_red_due"
VERIFY_DUE = "disputes.verify_due"


class SupervisionCard(models.Model):
    class Colour(models.TextChoices):
        YELLOW = "yellow", _("Yellow card")
        RED = "red", _("Red card")

    class Step(models.TextChoices):
        NOT_ASSIGNED = "not_assigned", _("Not assigned in time")
        NOT_HANDLED = "not_handled", _("Not handled in time")
        PAST_CLOSE = "past_close", _("Not closed in time")
        NOT_VERIFIED = "not_verified", _("Resolution not checked in time")
        MANUAL = "manual", _("Supervised by a level above")

    # No database constraint on the case (Django still cascades): cases are never deleted,
    # and each constraint's check locks the case row (FOR KEY SHARE), which writes to the wide
    # case table's page. The sweep writes this row for thousands of cases a tick; its checks
    # cost more than the inserts (benchmarks/README.md: the sweep, sixth sitting).
    case = models.ForeignKey(
        "disputes.Case",
        on_delete=models.CASCADE,
        related_name="supervision_cards",
        db_constraint=False,
    )
    colour = models.CharField(_("card"), max_length=8, choices=Colour.choices)
    step = models.CharField(_("for"), max_length=16, choices=Step.choices)
    # The unit answerable when the card was issued (the case may move on later).
    area = models.ForeignKey(
        "grids.Area", verbose_name=_("responsible unit"), on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        db_index=False,  # never looked up by; an index cost every card the sweep writes
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("issued at"))
    reply_due_at = models.DateTimeField(_("answer due by"))
    reply = models.TextField(_("answer"), blank=True)
    replied_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        db_index=False,
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    replied_late = models.BooleanField(_("answer overdue"), default=False)

    class Meta:
        verbose_name = _("supervision card")
        verbose_name_plural = _("supervision cards")
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "step", "colour"],
                condition=~Q(step="manual"),
                name="card_once_per_case_step_colour",
            ),
        ]
        indexes = [
            # The unit's list of cards still to answer (supervision page, ranking).
            models.Index(fields=["area", "replied_at", "-issued_at"], name="card_unit_open"),
        ]

    def __str__(self):
        return f"{self.get_colour_display()} {self.case_id}"

    @property
    def answered(self) -> bool:
        return self.replied_at is not None

from datetime import timedelta

from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from common.choices import RiskLevel


class TimeBasis(models.TextChoices):
    NATURAL = "natural", _("Natural time")
    WORKDAYS = "workdays", _("Working days (statutory calendar)")


class VerifyBy(models.TextChoices):
    UNIT = "unit", _("Another person of the handling unit or the level above")
    FILER = "filer", _("The grid worker who filed it, on site")
    OFF = "off", _("Nobody: the handler closes")


class SlaPolicy(models.Model):
    """Time limits for a kind of case ("13710"-style presets). Data, edited by admins.

    A policy row is never changed once a case uses it: editing in the admin saves a new
    version, so every case keeps the rules it started under."""

    code = models.CharField(_("code"), max_length=32)
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=100)
    category = models.ForeignKey(
        "disputes.Category",
        verbose_name=_("dispute type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sla_policies",
        help_text=_("Empty: any type. A first-level type also covers its sub-types."),
    )
    risk_level = models.CharField(
        _("risk level"),
        max_length=16,
        choices=RiskLevel.choices,
        blank=True,
        help_text=_("Empty: any risk level."),
    )
    assign_within_hours = models.PositiveIntegerField(_("assign within (hours)"), default=24)
    first_update_within_hours = models.PositiveIntegerField(
        _("first progress within (hours after assignment)"), default=24
    )
    close_within_days = models.PositiveIntegerField(_("close within (days)"), default=30)
    time_basis = models.CharField(
        _("time basis"), max_length=16, choices=TimeBasis.choices, default=TimeBasis.NATURAL
    )
    pause_for_judicial_review = models.BooleanField(
        _("pause the clock during judicial confirmation"), default=False
    )
    auto_escalate_on_red = models.BooleanField(_("escalate automatically when red"), default=False)
    # Checking a resolution (核查) before it counts, and supervising overdue work (督办).
    verify_by = models.CharField(
        _("resolutions checked by"),
        max_length=8,
        choices=VerifyBy.choices,
        default=VerifyBy.UNIT,
        help_text=_(
            "Who checks a resolved case before it is closed: someone else of the handling unit "
            "or the level above; or the grid worker who filed it, on site; or nobody."
        ),
    )
    verify_within_days = models.PositiveIntegerField(_("check within (days)"), default=3)
    card_reply_within_days = models.PositiveIntegerField(
        _("supervision card answered within (days)"), default=3
    )
    red_card_after_days = models.PositiveIntegerField(
        _("red card after (days still overdue)"),
        default=3,
        help_text=_(
            "A yellow card still unanswered or its step still overdue after this turns red."
        ),
    )
    red_card_on_breach_number = models.PositiveSmallIntegerField(
        _("red card at the n-th missed step of a case"),
        default=2,
        db_default=2,
        help_text=_(
            "When the same unit misses this many steps of one case (e.g. 2: assigned late, then "
            "handled late), the card for the last of them is red at once. 0: never."
        ),
    )
    # Warnings before each deadline (即将超时): the earlier of the two moments, never before
    # the limit starts. Counted back from the deadline in calendar time, so an extension
    # or a pause moves the warning with its deadline.
    warn_at_percent = models.PositiveSmallIntegerField(
        _("warn when this share of a limit has passed (%)"),
        default=75,
        db_default=75,
        validators=[MaxValueValidator(99)],
        help_text=_(
            "For example 75: a 24-hour limit warns 6 hours before its deadline, a 30-day "
            "limit 7.5 days before. 0: no warning by share. If hours before the deadline "
            "are set as well, whichever comes earlier warns."
        ),
    )
    warn_hours_before = models.PositiveIntegerField(
        _("warn this many hours before a deadline"),
        default=0,
        db_default=0,
        help_text=_(
            "0: no warning by hours. If a share is set as well, whichever comes earlier "
            "warns; never earlier than the limit's start."
        ),
    )
    progress_every_days = models.PositiveIntegerField(
        _("progress note at least every (days)"),
        default=7,
        db_default=7,
        help_text=_(
            "While a case is assigned and open, its mediator records progress at least "
            "this often, counted from the assignment or the last progress note, in the "
            "policy's time basis (calendar days, or working days on the statutory "
            "calendar). Each missed period is recorded once as progress overdue. 0: no "
            "such limit."
        ),
    )
    priority = models.IntegerField(
        _("priority"), default=0, help_text=_("Higher wins when several policies match.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        # Moved from the disputes app with its table: existing databases keep their rows.
        db_table = "disputes_slapolicy"
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["-priority", "code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="slapolicy_code_version"),
        ]

    def __str__(self):
        return f"{self.name} v{self.version}"

    @cached_property
    def warning_leads(self) -> dict[str, timedelta]:
        """How long before each kind of deadline its warning comes, by the clock's reason
        (not_assigned, not_handled, past_close, no_progress); a reason missing here is not
        warned. Computed once per row: a policy row never changes once in use."""
        limits = {
            "not_assigned": timedelta(hours=self.assign_within_hours),
            "not_handled": timedelta(hours=self.first_update_within_hours),
            "past_close": timedelta(days=self.close_within_days),
            "no_progress": timedelta(days=self.progress_every_days),
        }
        percent = self.warn_at_percent if 0 < self.warn_at_percent < 100 else 100
        before = timedelta(hours=self.warn_hours_before)
        leads = {
            reason: min(max(limit * (100 - percent) / 100, before), limit)
            for reason, limit in limits.items()
        }
        return {reason: lead for reason, lead in leads.items() if lead > timedelta(0)}


class SlaCheck(models.Model):
    """The SLA sweep's bookkeeping for one case: when to look at it next, and which breaches
    are already recorded (each exactly once, see sweep.py).

    A narrow table of its own rather than columns on the case, because a sweep tick rewrites
    thousands of these rows at once: a case row carries some thirty indexes, and rewriting
    it updates every one of them, which made a 10,000-breach tick cost seconds (bench_sla.py).
    Here a rewrite touches two small indexes. The case row stays the lock both sides take:
    the sweep and every service lock the case first, then write this row."""

    case = models.OneToOneField(
        "disputes.Case", on_delete=models.CASCADE, primary_key=True, related_name="sla_check"
    )
    # NULL once nothing more can be breached (closed, or every deadline recorded).
    next_check_at = models.DateTimeField(_("next check at"), null=True, blank=True)
    breached_assign = models.BooleanField(_("assignment overdue"), default=False)
    breached_first_update = models.BooleanField(_("first handling overdue"), default=False)
    breached_close = models.BooleanField(_("closing overdue"), default=False)
    # The sweep found the closing deadline missed on a policy that escalates on red, and the
    # escalation is still to be done: it runs after the sweep's batch commits, in a short
    # transaction of its own (see sweep.py), and this flag survives a crash in between.
    escalation_due = models.BooleanField(
        _("escalation due"), default=False, db_default=False, editable=False
    )
    # Warnings recorded (each once per deadline; cleared when the deadline moves later).
    warned_assign = models.BooleanField(_("assignment warned"), default=False, db_default=False)
    warned_first_update = models.BooleanField(
        _("first handling warned"), default=False, db_default=False
    )
    warned_close = models.BooleanField(_("closing warned"), default=False, db_default=False)
    warned_progress = models.BooleanField(_("progress warned"), default=False, db_default=False)
    # The recurring progress limit's current period ends here (NULL while it does not run:
    # not assigned, not open, clock paused, or the policy sets no limit).
    progress_due_at = models.DateTimeField(_("progress note due by"), null=True, blank=True)
    # When each deadline's warning comes, kept beside it (clock.rearm writes them with the
    # deadlines) so lists can filter "due soon" in SQL: clock.annotate_due_soon.
    warn_assign_at = models.DateTimeField(null=True, blank=True, editable=False)
    warn_first_update_at = models.DateTimeField(null=True, blank=True, editable=False)
    warn_close_at = models.DateTimeField(null=True, blank=True, editable=False)
    warn_progress_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Bumped by every change to the case (sla.rearm), so the sweep can tell a case changed
    # since it read it even when the next check time stayed the same.
    version = models.PositiveIntegerField(default=0, db_default=0, editable=False)

    class Meta:
        db_table = "disputes_slacheck"
        verbose_name = _("SLA check")
        verbose_name_plural = _("SLA checks")
        indexes = [
            # "Which cases are due for a check": only cases that can still breach have a
            # next check, so the partial index stays small however many cases are closed.
            models.Index(
                fields=["next_check_at"],
                name="slacheck_due",
                condition=Q(next_check_at__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.case_id} @ {self.next_check_at}"


class SweepRun(models.Model):
    """When the SLA sweep last ran: one row, rewritten by every tick. The health page turns
    red when no tick has finished for a few minutes (no worker or no beat running), which
    the lag alone cannot show when nothing happens to be due."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"))
    checked = models.PositiveIntegerField(_("cases checked"), default=0)
    breaches = models.PositiveIntegerField(_("breaches recorded"), default=0)

    class Meta:
        verbose_name = _("SLA sweep run")
        verbose_name_plural = _("SLA sweep runs")

    def __str__(self):
        return f"{self.finished_at:%Y-%m-%d %H:%M:%S}"


class Timer(models.Model):
    """A deadline on something other than a case's own SLA steps (an acknowledgement, a
    card's reply, an obligation, a court's decision), fired exactly once by the sweep.

    One row per (kind, object): arming again moves the deadline (and un-fires it), disarming
    deletes it. The sweep claims due rows with SKIP LOCKED and marks them fired in the same
    transaction as the kind's handler writes its events, so overlapping sweeps, a crash
    half-way and a sweep run days late all fire each timer once (see sla/timers.py)."""

    kind = models.CharField(_("kind"), max_length=64)
    object_id = models.BigIntegerField(_("object id"))
    # No database constraint on the case (Django still cascades): cases are never deleted,
    # and each constraint's check locks the case row (FOR KEY SHARE), which writes to the wide
    # case table's page. The sweep writes this row for thousands of cases a tick; its checks
    # cost more than the inserts (benchmarks/README.md: the sweep, sixth sitting).
    case = models.ForeignKey(
        "disputes.Case",
        verbose_name=_("case"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    due_at = models.DateTimeField(_("due at"))
    fired_at = models.DateTimeField(_("fired at"), null=True, blank=True)

    class Meta:
        verbose_name = _("timer")
        verbose_name_plural = _("timers")
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="timer_kind_object"),
        ]
        indexes = [
            # "What is due": fired timers drop out of the partial index, so it stays small.
            models.Index(
                fields=["kind", "due_at"],
                name="timer_due",
                condition=Q(fired_at__isnull=True),
            ),
        ]

    def __str__(self):
        return f"{self.kind}:{self.object_id} @ {self.due_at}"

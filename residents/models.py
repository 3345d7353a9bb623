"""What residents add to the ledger. Cases themselves stay in disputes; everything here links
to a case instead of adding columns to it, so the public surface never needs a disputes
migration."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from disputes.models import Case, CaseEvent
from grids.models import Area, AreaLevel

# Areas that get a QR code: where residents live. A street or a district is too big for
# one compound's notice board.
REPORT_LEVELS = (AreaLevel.COMMUNITY, AreaLevel.GRID, AreaLevel.DEDICATED, AreaLevel.MICRO_GRID)


class Topic(models.TextChoices):
    """The plain-language list a resident picks from; services map it to a dispute type."""

    NEIGHBOURS = "neighbours", _("Neighbour dispute")
    PROPERTY = "property", _("Property management")
    WAGES = "wages", _("Unpaid wages")
    FAMILY = "family", _("Marriage and family")
    NOISE = "noise", _("Noise")
    OTHER = "other", _("Other")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASICALLY = "basically_satisfied", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Unsatisfied")


SATISFIED_ANSWERS = (Satisfaction.SATISFIED, Satisfaction.BASICALLY)


class ResidentReport(models.Model):
    """A case a resident filed through a QR code: who to contact and how they follow it."""

    case = models.OneToOneField(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="resident_report"
    )
    # Names the report (read out over the phone, printed on a slip); opens nothing by itself.
    tracking_code = models.CharField(_("tracking code"), max_length=16, unique=True)
    # SHA-256 of the secret shown once to the reporter. Empty for reports filed before keys
    # existed: those still open with the phone's last four digits (see selectors).
    tracking_key_hash = models.CharField(max_length=64, blank=True, editable=False)
    # A repeat from the same phone for the same place within a day: a hint for staff only.
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("possible duplicate of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="repeats",
    )
    topic = models.CharField(_("topic"), max_length=16, choices=Topic.choices)
    name = models.CharField(_("name"), max_length=50)
    # Digits only (mainland mobile); never shown on a public page.
    phone = models.CharField(_("phone"), max_length=20)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("resident report")
        verbose_name_plural = _("resident reports")
        ordering = ["-created_at"]
        indexes = [
            # report_submit(): "an open report from this phone in the last 24 hours".
            models.Index(fields=["phone", "-created_at"], name="report_phone_recent"),
        ]

    def __str__(self):
        return self.tracking_code

    @property
    def display_code(self) -> str:
        return format_code(self.tracking_code)


def format_code(code: str) -> str:
    """ABCDE-FGHJK: two groups are easier to read out over the phone."""
    return f"{code[:5]}-{code[5:]}" if len(code) > 5 else code


class ResidentSupplement(models.Model):
    """Kept for the record: before December 2026 a second report from the same phone for the
    same area within a day was added to the first one's case. That let anyone who knew a
    phone number take over a report, so repeats are now reports of their own
    (ResidentReport.duplicate_of) and no supplement is created any more."""

    report = models.ForeignKey(ResidentReport, on_delete=models.CASCADE, related_name="supplements")
    event = models.OneToOneField(
        CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(_("what happened"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    photo_count = models.PositiveIntegerField(_("photos"), default=0)
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("resident supplement")
        verbose_name_plural = _("resident supplements")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.report} +{self.created_at:%Y-%m-%d %H:%M}"


class PublicUpdate(models.Model):
    """A progress note the handler chose to show the resident. The note itself stays in the
    case's timeline (CaseEvent); this row only says "this one is public" and keeps the
    wording the resident sees. Withdrawn rows are kept as evidence of what was shown."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="public_updates")
    event = models.ForeignKey(
        CaseEvent, verbose_name=_("timeline entry"), on_delete=models.CASCADE, related_name="+"
    )
    text = models.TextField(_("text shown to the resident"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("published at"), auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("public progress note")
        verbose_name_plural = _("public progress notes")
        ordering = ["created_at", "id"]
        indexes = [
            # The tracking page and the case page: a case's notes in order.
            models.Index(fields=["case", "created_at"], name="publicupdate_case"),
        ]
        constraints = [
            # A timeline entry is shown at most once at a time.
            models.UniqueConstraint(
                fields=["event"],
                condition=Q(withdrawn_at__isnull=True),
                name="publicupdate_one_live_per_event",
            ),
        ]

    def __str__(self):
        return self.text[:50]


class Rating(models.Model):
    """The resident's verdict on one closing of the case (a reopened and closed again case
    can be rated again)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="resident_ratings")
    report = models.ForeignKey(ResidentReport, on_delete=models.CASCADE, related_name="ratings")
    satisfaction = models.CharField(_("satisfaction"), max_length=24, choices=Satisfaction.choices)
    comment = models.TextField(_("comment"), blank=True)
    closed_at = models.DateTimeField(_("closing rated"))
    created_at = models.DateTimeField(_("rated at"), auto_now_add=True)

    class Meta:
        verbose_name = _("resident rating")
        verbose_name_plural = _("resident ratings")
        ordering = ["-created_at"]
        indexes = [
            # satisfaction_rate(): ratings given in a period.
            models.Index(fields=["created_at"], name="rating_created"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["case", "closed_at"], name="rating_once_per_closing"),
        ]

    def __str__(self):
        return f"{self.case_id} {self.satisfaction}"


class ReopenRequest(models.Model):
    """An unsatisfied resident asks for the case to be taken up again; the handler's
    supervisor approves (the case is reopened) or refuses with a reason."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reopen_requests")
    rating = models.OneToOneField(
        Rating, null=True, blank=True, on_delete=models.SET_NULL, related_name="reopen_request"
    )
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reopen request")
        verbose_name_plural = _("reopen requests")
        ordering = ["-created_at"]
        indexes = [
            # The supervisor's list: pending requests, newest first.
            models.Index(fields=["status", "-created_at"], name="reopen_status_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="pending"), name="reopen_one_pending_per_case"
            ),
        ]

    def __str__(self):
        return f"{self.case_id} {self.status}"


class CallbackPolicy(models.Model):
    """A street's own callback share, where it differs from RESIDENT_CALLBACK_SHARE."""

    street = models.OneToOneField(
        Area,
        verbose_name=_("street"),
        on_delete=models.CASCADE,
        limit_choices_to={"level": AreaLevel.STREET},
        related_name="callback_policy",
    )
    share = models.DecimalField(
        _("share called back"),
        max_digits=3,
        decimal_places=2,
        help_text=_("At least this share of the cases closed each month, e.g. 0.30."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("callback policy")
        verbose_name_plural = _("callback policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(share__gt=0, share__lte=1),
                name="callbackpolicy_share_range",
                violation_error_message=_("The share must be above 0 and at most 1."),
            ),
        ]

    def __str__(self):
        return f"{self.street.name} {self.share:.0%}"


class CallbackDraw(models.Model):
    """One street's monthly random sample. The seed and every id are stored, so anyone can
    redraw it and get the same cases (see callbacks.callback_sample)."""

    street = models.ForeignKey(
        Area, verbose_name=_("street"), on_delete=models.PROTECT, related_name="callback_draws"
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month drawn from."))
    seed = models.BigIntegerField(_("seed"))
    share = models.DecimalField(_("share"), max_digits=3, decimal_places=2)
    population_ids = models.JSONField(_("cases closed in the month"), default=list)
    required_ids = models.JSONField(_("cases rated unsatisfied"), default=list)
    chosen_ids = models.JSONField(_("cases drawn"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("drawn at"), auto_now_add=True)

    class Meta:
        verbose_name = _("callback draw")
        verbose_name_plural = _("callback draws")
        ordering = ["-month", "street__path"]
        constraints = [
            # Idempotent: a repeated beat tick or command finds the existing draw.
            models.UniqueConstraint(fields=["street", "month"], name="callbackdraw_street_month"),
        ]

    def __str__(self):
        return f"{self.street.name} {self.month:%Y-%m}"


class CallbackTask(models.Model):
    """回访: street staff phone the resident of one drawn case."""

    class Reason(models.TextChoices):
        SAMPLED = "sampled", _("Random sample")
        UNSATISFIED = "unsatisfied", _("Rated unsatisfied")

    class Status(models.TextChoices):
        PENDING = "pending", _("To call")
        UNREACHED = "unreached", _("Not reached yet")
        DONE = "done", _("Done")

    draw = models.ForeignKey(CallbackDraw, on_delete=models.CASCADE, related_name="tasks")
    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="callback_tasks"
    )
    street = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("why drawn"), max_length=16, choices=Reason.choices)
    closed_at = models.DateTimeField(_("closing called back about"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    reached = models.BooleanField(_("resident reached"), null=True, blank=True)
    settled = models.BooleanField(_("dispute really settled"), null=True, blank=True)
    satisfaction = models.CharField(
        _("satisfaction"), max_length=24, choices=Satisfaction.choices, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    reopened = models.BooleanField(_("case reopened"), default=False)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    done_at = models.DateTimeField(_("called at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
        ordering = ["-closed_at", "id"]
        indexes = [
            # The street's callback list, filtered by status.
            models.Index(fields=["street", "status", "-closed_at"], name="callback_street_status"),
            # Figures: callbacks of a set of cases.
            models.Index(fields=["case", "status"], name="callback_case_status"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["draw", "case"], name="callback_once_per_draw"),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(reached=True),
                name="callback_done_means_reached",
            ),
        ]

    def __str__(self):
        return f"{self.case_id} {self.status}"

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.sql.where import WhereNode
from django.utils.translation import gettext_lazy as _

from common.choices import OPEN_STATUSES, CaseStatus, RiskLevel
from common.fields import EncryptedTextField
from grids.models import Area, Department, Role
from sla.clock import annotate_sla

from .attachment_models import Attachment, attachment_path
from .choices import (
    Channel,
    CloseKind,
    HandlingLevel,
    Outcome,
    PartyKind,
    PartySide,
    ReferralKind,
)
from .department_models import DepartmentTask
from .models_filing import CaseNumberSequence, FilingKey
from .scope import LEVEL_COLUMN, case_scope_branches, either
from .supervision_models import SupervisionCard

__all__ = [
    "LEVEL_COLUMN",
    "OPEN_STATUSES",
    "Attachment",
    "CaseNumberSequence",
    "CaseStatus",
    "Channel",
    "CloseKind",
    "DepartmentTask",
    "FilingKey",
    "HandlingLevel",
    "Outcome",
    "PartyKind",
    "PartySide",
    "ReferralKind",
    "RiskLevel",
    "SupervisionCard",
    "attachment_path",
]  # the case vocabulary (from common) and the tables kept in their own modules


class Category(models.Model):
    """A dispute type with its preset routing: who leads (牵头) and who assists (配合)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        limit_choices_to={"parent__isnull": True},
    )
    default_risk = models.CharField(
        _("default risk"), max_length=16, choices=RiskLevel.choices, default=RiskLevel.ORDINARY
    )
    default_handling_level = models.CharField(
        _("default handling level"),
        max_length=16,
        choices=HandlingLevel.choices,
        default=HandlingLevel.COMMUNITY,
    )
    lead_role = models.CharField(_("lead role"), max_length=32, choices=Role.choices, blank=True)
    lead_department = models.ForeignKey(
        Department,
        verbose_name=_("lead department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_categories",
    )
    assisting_roles = models.JSONField(_("assisting roles"), default=list, blank=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("dispute category")
        verbose_name_plural = _("dispute categories")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name

    # An attribute, not a method, for the API: DRF inspects a callable source on every row.
    full_name = property(__str__)

    @property
    def assisting_role_labels(self) -> list[str]:
        return [str(Role(r).label) for r in self.assisting_roles if r in Role.values]


class Law(models.Model):
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="laws")
    title = models.CharField(_("law"), max_length=200)
    article = models.CharField(_("article"), max_length=100, blank=True)
    text = models.TextField(_("text"))

    class Meta:
        verbose_name = _("applicable law")
        verbose_name_plural = _("applicable laws")
        ordering = ["id"]

    def __str__(self):
        return f"{self.title} {self.article}"


class TypicalCase(models.Model):
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="typical_cases")
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"))
    outcome = models.TextField(_("outcome"))

    class Meta:
        verbose_name = _("typical case")
        verbose_name_plural = _("typical cases")
        ordering = ["id"]

    def __str__(self):
        return self.title


class CaseQuerySet(models.QuerySet):
    # The scope's branches (case_scope_branches) once visible_to has applied their OR, so
    # that lists can read each branch in index order (disputes.listing); kept by clones.
    scope_branches: list[Q] | None = None
    # A list sorted in segments, each read in index order (listing.case_page): [(condition,
    # keys)]. None: newest first.
    list_segments: list | None = None

    scope_index: int | None = None  # where the scope's OR sits in the WHERE clause

    def _clone(self):
        clone = super()._clone()
        clone.scope_branches = self.scope_branches
        clone.list_segments = self.list_segments
        clone.scope_index = self.scope_index
        return clone

    def visible_to(self, user):
        branches = case_scope_branches(user, self.model)
        if branches is None:
            return self.all()
        return self.within(branches)

    def within(self, branches: list[Q]):
        """Rows matching any of `branches`, remembered for the list paginator."""
        scoped = self.filter(either(branches))
        scoped.scope_branches = branches
        if len(branches) > 1:  # one OR node, appended last (later filters come after it)
            scoped.scope_index = len(scoped.query.where.children) - 1
        return scoped

    def narrowed(self, condition: Q):
        """This queryset with its scope's OR replaced by `condition`, a part of the scope
        (one branch; cases picked from the branches): the OR left in would keep PostgreSQL
        from reading the branch's index alone (no index-only count, no ordered scan)."""
        clone = self._chain()
        if self.scope_index is not None:
            clone.query.where.children[self.scope_index] = WhereNode()
            clone.scope_index = None
        return clone.filter(condition)

    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def annotate_sla(self, now):
        """sla_colour / sla_rank / sla_past_close / sla_not_assigned / sla_not_handled."""
        return annotate_sla(self, now)


class Case(models.Model):
    """One dispute in the electronic ledger (电子台账), with every time point of its handling."""

    number = models.CharField(_("case number"), max_length=20, unique=True, editable=False)
    cause = models.CharField(_("cause"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)  # noqa: E501  # fmt: skip
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)  # noqa: E501  # fmt: skip  # where the worker stood ("use my location", WGS-84)
    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="cases"
    )
    # Ancestors copied from `area` (refreshed when an area moves): scope is one equality.
    district = models.ForeignKey(Area, null=True, on_delete=models.PROTECT, related_name="+")
    street = models.ForeignKey(Area, null=True, on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(Area, null=True, on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey(Area, null=True, on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(
        Category, verbose_name=_("dispute type"), on_delete=models.PROTECT, related_name="cases"
    )
    risk_level = models.CharField(_("risk level"), max_length=16, choices=RiskLevel.choices)
    channel = models.CharField(_("channel"), max_length=32, choices=Channel.choices)
    people_involved = models.PositiveIntegerField(_("people involved"), default=2)
    amount_involved = models.DecimalField(
        _("amount involved (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    handling_level = models.CharField(
        _("handling level"), max_length=16, choices=HandlingLevel.choices
    )
    handling_area = models.ForeignKey(
        Area, verbose_name=_("handled by"), on_delete=models.PROTECT, related_name="handled_cases"
    )
    lead_department = models.ForeignKey(
        Department,
        verbose_name=_("lead department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_cases",
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="filed_cases",
    )
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("mediator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mediated_cases",
    )
    assistants = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assisting staff"),
        blank=True,
        related_name="assisted_cases",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.FILED
    )
    resolved_on_spot = models.BooleanField(_("resolved on the spot"), default=False)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(_("outcome details"), blank=True)
    close_kind = models.CharField(
        _("close kind"), max_length=16, choices=CloseKind.choices, blank=True
    )
    referral_kind = models.CharField(
        _("referred to"), max_length=16, choices=ReferralKind.choices, blank=True
    )
    referral_department = models.ForeignKey(
        Department,
        verbose_name=_("referral department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referred_cases",
    )
    # Every time point of the handling, as evidence for supervision.
    filed_at = models.DateTimeField(_("filed at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    first_progress_at = models.DateTimeField(_("first handled at"), null=True, blank=True)
    outcome_at = models.DateTimeField(_("outcome recorded at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # Who resolved it (they may not check their own work) and by when the check (核查) is due;
    # empty when the policy asks for no check, or once it is done.
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verify_due_at = models.DateTimeField(_("check due by"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    referred_at = models.DateTimeField(_("referred at"), null=True, blank=True)
    reopened_at = models.DateTimeField(_("reopened at"), null=True, blank=True)
    # --- SLA: deadlines are stored when set; the colour is computed from them (sla.py).
    sla_policy = models.ForeignKey(
        "sla.SlaPolicy",
        verbose_name=_("SLA policy"),
        null=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    assign_due_at = models.DateTimeField(_("assign by"))
    first_update_due_at = models.DateTimeField(_("first progress by"), null=True, blank=True)
    close_due_at = models.DateTimeField(_("close by"))
    # The sweep's bookkeeping (next check, breaches recorded) lives in SlaCheck, below.
    # Set when each step happens: was it within its limit? (kept after closing, for 考核)
    assigned_on_time = models.BooleanField(_("assigned on time"), null=True, blank=True)
    first_update_on_time = models.BooleanField(_("first handled on time"), null=True, blank=True)
    closed_on_time = models.BooleanField(_("closed on time"), null=True, blank=True)
    clock_paused_at = models.DateTimeField(_("clock paused at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("dispute case")
        verbose_name_plural = _("dispute cases")
        ordering = ["-filed_at"]
        indexes = [
            # visible_to(): one equality per scope level, then the newest first.
            models.Index(fields=["district", "-filed_at"], name="case_district_filed"),
            models.Index(fields=["street", "-filed_at"], name="case_street_filed"),
            models.Index(fields=["community", "-filed_at"], name="case_community_filed"),
            models.Index(fields=["grid", "-filed_at"], name="case_grid_filed"),
            models.Index(fields=["area", "-filed_at"], name="case_area_filed"),
            # "My cases": filed by me / mediated by me.
            models.Index(fields=["filed_by", "-filed_at"], name="case_filer_filed"),
            models.Index(fields=["mediator", "-filed_at"], name="case_mediator_filed"),
            # Queue of a handling area (triage) by status.
            models.Index(fields=["handling_area", "status"], name="case_queue"),
            # Dashboard (disputes.stats): an area's "period's cases or open ones" is a BitmapOr
            # of <level>_filed and these. Partial: open cases are a few percent of the ledger.
            *(
                models.Index(
                    fields=[level, "assign_due_at"],
                    name=f"case_{level}_open",
                    condition=Q(status__in=OPEN_STATUSES),
                )
                for level in ("district", "street", "community")
            ),
            # The triage queue: cases waiting for assignment, nearest deadline first. Read
            # in index order and cut at 25 rows, without wading through older open cases.
            *(
                models.Index(
                    fields=[level, "assign_due_at"],
                    name=f"case_{level}_queue",
                    condition=Q(status__in=(CaseStatus.FILED, CaseStatus.ACCEPTED)),
                )
                for level in ("district", "street", "community")
            ),
            # Lists filtered by colour or sorted "most overdue first" (listing.case_page):
            # an area's open cases, newest first, read in index order and cut at a page.
            # Trigram indexes for the list's search: migration 0024 (PostgreSQL only).
            *(
                models.Index(
                    fields=[level, "-filed_at"],
                    name=f"case_{level}_open_filed",
                    condition=Q(status__in=OPEN_STATUSES),
                )
                for level in ("district", "street", "community")
            ),
            # The mediator picker's load: open cases each candidate mediates.
            models.Index(
                fields=["mediator"],
                name="case_mediator_open",
                condition=Q(status__in=OPEN_STATUSES),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=CaseStatus.CLOSED) | ~Q(outcome=""),
                name="case_closed_has_outcome",
                violation_error_message=_("A case can only be closed with an outcome."),
            ),
            models.CheckConstraint(
                condition=Q(amount_involved__isnull=True) | Q(amount_involved__gte=0),
                name="case_amount_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.cause}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def resolved_on_time(self) -> bool | None:
        """Whether a resolved case, still waiting to be closed, was resolved within its
        closing deadline (a closed case has `closed_on_time`); None otherwise. The colour
        stops at resolution, so without this mark a late resolution would look on time."""
        if self.status != CaseStatus.RESOLVED or self.resolved_at is None:
            return None
        return self.resolved_at <= self.close_due_at


class PartyDisclosure(models.Model):
    """Someone saw a case's parties' phone and ID numbers in full (pages and API show them
    masked until asked): who, when, which case, where. Written by disclosure.reveal_parties,
    read by admins; never changed."""

    class Channel(models.TextChoices):
        PAGE = "page", _("Case page")
        API = "api", _("API")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    channel = models.CharField(_("where"), max_length=8, choices=Channel.choices)

    class Meta:
        verbose_name = _("view of party details")
        verbose_name_plural = _("views of party details")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.user} · {self.case_id} · {self.at:%Y-%m-%d %H:%M}"


ID_NUMBER_MAX = 32


class Party(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="parties")
    side = models.CharField(_("side"), max_length=16, choices=PartySide.choices)
    kind = models.CharField(
        _("kind"), max_length=16, choices=PartyKind.choices, default=PartyKind.PERSON
    )
    name = models.CharField(_("name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    # Encrypted at rest (PIPL: sensitive personal information); at most ID_NUMBER_MAX
    # characters, which the filing service checks (the stored ciphertext is longer).
    id_number = EncryptedTextField(_("ID number"), blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    relationship = models.CharField(_("relationship"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        ordering = ["side", "id"]

    def __str__(self):
        return self.name


class CaseEvent(models.Model):
    """The append-only timeline: the evidence supervisors rely on. Never edited."""

    class Kind(models.TextChoices):
        FILED = "filed", _("Filed")
        RESOLVED_ON_SPOT = "resolved_on_spot", _("Resolved on the spot")
        ACCEPTED = "accepted", _("Accepted")
        SENT_BACK = "sent_back", _("Sent back")
        RESUBMITTED = "resubmitted", _("Resubmitted")
        ASSIGNED = "assigned", _("Assigned")
        PROGRESS = "progress", _("Progress update")
        OUTCOME = "outcome", _("Mediation outcome")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")
        REOPENED = "reopened", _("Reopened")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        REFERRED = "referred", _("Referred")
        ATTACHMENT = "attachment", _("Attachment added")
        SLA_BREACH = "sla_breach", _("Time limit missed")
        SLA_WARNING = "sla_warning", _("Due soon")
        PROGRESS_OVERDUE = "progress_overdue", _("Progress overdue")
        ESCALATED = "escalated", _("Escalated")
        RISK_RAISED = "risk_raised", _("Risk level raised")
        DISPATCHED = "dispatched", _("Dispatched to a department")
        EXTENSION_REQUESTED = "extension_requested", _("Extension requested")
        EXTENSION_APPROVED = "extension_approved", _("Extension approved")
        EXTENSION_REFUSED = "extension_refused", _("Extension refused")
        CLOCK_PAUSED = "clock_paused", _("Clock paused for judicial confirmation")
        CLOCK_RESUMED = "clock_resumed", _("Clock resumed")
        DEADLINES_PLACED = "deadlines_placed", _("Deadlines placed on the new year's calendar")
        # What residents' side adds to the record (residents app, through case_record).
        PUBLISHED = "published", _("Shown to the resident")
        RATED = "rated", _("Rated by the resident")
        REOPEN_REFUSED = "reopen_refused", _("Reopen request refused")
        CALLBACK = "callback", _("Callback")
        DEPT_SIGNED = "dept_signed", _("Signed for by the department")
        DEPT_RETURNED = "dept_returned", _("Returned by the department")
        DEPT_REPORTED = "dept_reported", _("Department reported completion")
        DEPT_VERIFIED = "dept_verified", _("Department's report verified")
        VERIFY_FAILED = "verify_failed", _("Resolution not confirmed by the check")
        VERIFY_OVERDUE = "verify_overdue", _("Resolution not checked in time")
        CARD_ISSUED = "card_issued", _("Supervision card issued")
        CARD_ANSWERED = "card_answered", _("Supervision card answered")
        CARD_OVERDUE = "card_overdue", _("Supervision card not answered in time")
        CORRECTED = "corrected", _("Record corrected")
        # The mediation app's steps (sessions, agreement, signatures, performance, judicial
        # confirmation), through case_record; which step is in `data["step"]`.
        MEDIATION = "mediation", _("Mediation")
        # Linkage referrals (联动: referrals app, through case_record).
        LINKAGE_IN = "linkage_in", _("Received from a linked body")
        LINKAGE_OUT = "linkage_out", _("Referred to a linked body")
        LINKAGE_RESULT = "linkage_result", _("Linkage result recorded")
        LINKAGE_EXTENDED = "linkage_extended", _("Court-entrusted limit extended")
        LINKAGE_DUE_SOON = "linkage_due_soon", _("Court-entrusted limit due soon")
        LINKAGE_OVERDUE = "linkage_overdue", _("Court-entrusted limit missed")
        # The mediation file (卷宗: casefiles app, through case_record).
        ARCHIVED = "archived", _("Case file archived")

    # No index of its own: caseevent_case_at (case, at) serves every lookup by case, and
    # each index costs every insert (a sweep tick writes thousands of events).
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField(_("event"), max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # see event_actor below: the system's own events are not indexed
    )
    # `at` is when it happened (a breach: the true deadline); `recorded_at` is when the
    # system wrote it, so late recording after an outage stays visible.
    at = models.DateTimeField(_("at"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    from_status = models.CharField(max_length=16, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=CaseStatus.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]
        indexes = [
            # The case page's timeline.
            models.Index(fields=["case", "at"], name="caseevent_case_at"),
            # Health page: breaches recorded in the last hour.
            models.Index(fields=["kind", "recorded_at"], name="caseevent_kind_recorded"),
            # What a person did (and PROTECT's check when a user is deleted). Partial: the
            # sweep's breach events have no actor and are most of the table's inserts.
            models.Index(
                fields=["actor"], name="caseevent_actor", condition=Q(actor__isnull=False)
            ),
        ]

    def __str__(self):
        return f"{self.case_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("CaseEvent rows are append-only")
        super().save(*args, **kwargs)


class ExtensionRequest(models.Model):
    """延期: a handler asks for more time; the level above approves or refuses."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extensions")
    days = models.PositiveIntegerField(_("extra days"))
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.TextField(_("decision note"), blank=True)
    old_close_due_at = models.DateTimeField(null=True, blank=True)
    new_close_due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        ordering = ["-created_at"]
        constraints = [
            # One open request per case: a second "ask" while one is pending is refused.
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status="pending"),
                name="extension_one_pending_per_case",
            ),
        ]

    def __str__(self):
        return f"{self.case_id} +{self.days}d {self.status}"


def case_scope_q(user) -> Q | None:
    """The case-visibility condition for a user (the OR of its scope.case_scope_branches);
    None means "everything"."""
    return either(case_scope_branches(user, Case))

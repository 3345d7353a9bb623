"""Reception days (网格接待日): the monthly sessions every community holds with its "three
officers and a lawyer", daily duty at the smallest mediation units, thematic sessions, the
service catalogue, and the residents received at each session (the closed loop of 接单)."""

from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grids.models import Area, AreaLevel, Assignment, Department, Role
from grids.scope import user_scope


class SessionKind(models.TextChoices):
    MONTHLY = "monthly", _("Monthly reception day")
    DUTY = "duty", _("Daily duty at a mediation unit")
    THEMATIC = "thematic", _("Thematic session")


class SessionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


class VisitOutcome(models.TextChoices):
    ANSWERED = "answered", _("Answered on the spot")
    PRESCRIPTION = "prescription", _("Prescription given")
    CASE = "case", _("Converted into a dispute case")
    REFERRED = "referred", _("Referred to a department")
    TASK_FORCE = "task_force", _("Sent to the task force")


class UnitKind(models.TextChoices):
    COMPOUND = "compound", _("Residential compound")
    MARKET = "market", _("Market")
    SCHOOL = "school", _("School")
    PARK = "park", _("Park or square")
    OFFICE = "office", _("Office building")
    OTHER = "other", _("Other")


class Weekday(models.IntegerChoices):
    # Python's date.weekday() numbering, so a rota slot matches a date without a lookup table.
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class ServiceItem(models.Model):
    """The service catalogue: the 4 common services (no parent) and the individual services
    under them, which each district words its own way and edits in the admin."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("common service"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        limit_choices_to={"parent__isnull": True},
    )
    description = models.TextField(_("description"), blank=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("service catalogue")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name


class MediationUnit(models.Model):
    """A smallest mediation unit (最小调解单元): a dispute-prone compound or market under a
    community where officers keep a daily duty by rota."""

    community = models.ForeignKey(
        Area,
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        limit_choices_to={"level": AreaLevel.COMMUNITY},
        related_name="mediation_units",
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(
        _("kind"), max_length=16, choices=UnitKind.choices, default=UnitKind.COMPOUND
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    duty_starts_at = models.TimeField(_("duty starts at"), default=time(9, 0))
    duty_ends_at = models.TimeField(_("duty ends at"), default=time(11, 30))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("mediation unit")
        verbose_name_plural = _("mediation units")
        ordering = ["community__path", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "name"],
                name="mediation_unit_name_per_community",
                violation_error_message=_("This community already has a unit with this name."),
            ),
            models.CheckConstraint(
                condition=Q(duty_ends_at__gt=models.F("duty_starts_at")),
                name="mediation_unit_duty_ends_after_start",
                violation_error_message=_("The duty must end after it starts."),
            ),
        ]

    def __str__(self):
        return self.name


class RotaSlot(models.Model):
    """One line of a unit's weekly duty rota: who is on duty there on a given weekday."""

    unit = models.ForeignKey(
        MediationUnit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="rota"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("officer"),
        on_delete=models.PROTECT,
        related_name="rota_slots",
    )
    duty = models.CharField(_("duty"), max_length=50, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rota slot")
        verbose_name_plural = _("duty rota")
        ordering = ["unit", "weekday", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "weekday", "user"],
                name="rota_slot_once_per_day",
                violation_error_message=_("This officer is already on the rota that day."),
            ),
        ]

    def __str__(self):
        return f"{self.unit} · {self.get_weekday_display()} · {self.user}"


class SessionQuerySet(models.QuerySet):
    def visible_to(self, user):
        condition = session_scope_q(user)
        return self if condition is None else self.filter(condition)


class ReceptionSession(models.Model):
    """One reception-day session. Date and times are the community's wall-clock schedule
    (what is posted in the compound), so they are a local date and local times rather than
    an aware datetime."""

    community = models.ForeignKey(
        Area,
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        limit_choices_to={"level": AreaLevel.COMMUNITY},
        related_name="reception_sessions",
    )
    unit = models.ForeignKey(
        MediationUnit,
        verbose_name=_("mediation unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sessions",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=SessionKind.choices)
    theme = models.CharField(_("theme"), max_length=100, blank=True)
    venue = models.CharField(_("venue"), max_length=200)
    date = models.DateField(_("date"))
    starts_at = models.TimeField(_("starts at"))
    ends_at = models.TimeField(_("ends at"))
    # Set when a statutory holiday moved the session: the date it was due and why it moved.
    original_date = models.DateField(_("originally due on"), null=True, blank=True)
    move_reason = models.CharField(_("moved because of"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=SessionStatus.choices, default=SessionStatus.PLANNED
    )
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    held_at = models.DateTimeField(_("marked held at"), null=True, blank=True)
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("marked held by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cancelled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Empty for the sessions the scheduler creates.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = SessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("reception-day session")
        verbose_name_plural = _("reception-day sessions")
        ordering = ["date", "starts_at", "id"]
        indexes = [
            # The community's public page and the scheduler: a community's sessions by date.
            models.Index(fields=["community", "date"], name="reception_community_date"),
            # The report card and the lists: sessions in a period, joined to the area tree.
            models.Index(fields=["date", "status"], name="reception_date_status"),
        ]
        constraints = [
            # The scheduler's idempotency: one monthly session per community per date.
            models.UniqueConstraint(
                fields=["community", "kind", "date"],
                condition=Q(kind=SessionKind.MONTHLY),
                name="reception_monthly_once",
                violation_error_message=_("This community already has a monthly session then."),
            ),
            models.UniqueConstraint(
                fields=["unit", "date"],
                condition=Q(kind=SessionKind.DUTY),
                name="reception_duty_once_per_unit_day",
                violation_error_message=_("This unit already has a duty session that day."),
            ),
            models.CheckConstraint(
                condition=~Q(kind=SessionKind.DUTY) | Q(unit__isnull=False),
                name="reception_duty_has_unit",
                violation_error_message=_("A duty session belongs to a mediation unit."),
            ),
            models.CheckConstraint(
                condition=~Q(kind=SessionKind.THEMATIC) | ~Q(theme=""),
                name="reception_thematic_has_theme",
                violation_error_message=_("A thematic session needs a theme."),
            ),
            models.CheckConstraint(
                condition=~Q(status=SessionStatus.CANCELLED) | ~Q(cancel_reason=""),
                name="reception_cancelled_has_reason",
                violation_error_message=_("Say why the session is cancelled."),
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="reception_ends_after_start",
                violation_error_message=_("The session must end after it starts."),
            ),
        ]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.community.name} {self.title}"

    @property
    def title(self) -> str:
        if self.theme:
            return self.theme
        if self.kind == SessionKind.DUTY and self.unit_id:
            return f"{self.unit.name} · {self.get_kind_display()}"
        return str(self.get_kind_display())

    @property
    def is_open(self) -> bool:
        return self.status != SessionStatus.CANCELLED


class SessionStaff(models.Model):
    """Someone scheduled at a session: one of the community's officers (from their team
    assignment) or an extra person such as a petition, fire-safety or legal worker, who may
    have no account, so their name and duty are kept as text."""

    session = models.ForeignKey(
        ReceptionSession, verbose_name=_("session"), on_delete=models.CASCADE, related_name="staff"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reception_duties",
    )
    name = models.CharField(_("name"), max_length=50)
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, blank=True)
    duty = models.CharField(_("duty"), max_length=50, blank=True)
    assignment = models.ForeignKey(
        Assignment,
        verbose_name=_("team assignment"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    attended = models.BooleanField(_("attended"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("scheduled staff")
        verbose_name_plural = _("scheduled staff")
        ordering = ["session", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "user"],
                condition=Q(user__isnull=False),
                name="session_staff_once",
                violation_error_message=_("This person is already scheduled at this session."),
            ),
            models.CheckConstraint(condition=~Q(name=""), name="session_staff_has_name"),
        ]

    def __str__(self):
        return f"{self.name}（{self.label}）" if self.label else self.name

    @property
    def label(self) -> str:
        return self.duty or (str(self.get_role_display()) if self.role else "")


class Visit(models.Model):
    """A resident received at a session and what became of their issue: answered, given a
    "prescription", converted into a dispute case, referred, or sent to the task force;
    then the reply they were given."""

    session = models.ForeignKey(
        ReceptionSession,
        verbose_name=_("session"),
        on_delete=models.PROTECT,
        related_name="visits",
    )
    resident_name = models.CharField(_("resident"), max_length=50)
    resident_phone = models.CharField(_("phone"), max_length=32, blank=True)
    people = models.PositiveSmallIntegerField(_("people received"), default=1)
    issue = models.TextField(_("issue raised"))
    services = models.ManyToManyField(
        ServiceItem, verbose_name=_("services given"), blank=True, related_name="visits"
    )
    is_dispute = models.BooleanField(_("a dispute between parties"), default=False)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=VisitOutcome.choices, default=VisitOutcome.ANSWERED
    )
    advice = models.TextField(_("answer or prescription"), blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("referred to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reception_referrals",
    )
    case = models.ForeignKey(
        "disputes.Case",
        verbose_name=_("dispute case"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reception_visits",
    )
    reply = models.TextField(_("reply to the resident"), blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("replied by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="recorded_visits",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome=VisitOutcome.CASE, case__isnull=False)
                | (~Q(outcome=VisitOutcome.CASE) & Q(case__isnull=True)),
                name="visit_case_iff_converted",
                violation_error_message=_("Only a converted visit has a case."),
            ),
            models.CheckConstraint(
                condition=~Q(outcome=VisitOutcome.REFERRED) | Q(department__isnull=False),
                name="visit_referral_has_department",
                violation_error_message=_("Choose the department the issue is referred to."),
            ),
            models.CheckConstraint(condition=Q(people__gte=1), name="visit_people_positive"),
        ]

    def __str__(self):
        return f"{self.resident_name}：{self.issue[:30]}"


class TeamMember(Assignment):
    """The "three officers and a lawyer" assignments, listed on their own in the admin so an
    administrator can see and filter each community's reception-day team. Rows are ordinary
    grids assignments; this is only a view of them."""

    class Meta:
        proxy = True
        verbose_name = _("reception-day team member")
        verbose_name_plural = _("reception-day teams")


def session_scope_q(user) -> Q | None:
    """Sessions of the communities in the user's areas, plus those they are scheduled at
    (an officer paired with a community in another street, an extra worker with no area).
    None means everything."""
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    scope = user_scope(user)
    if scope.sees_everything:
        return None
    scheduled = SessionStaff.objects.filter(user_id=user.pk).values("session_id")
    condition = Q(pk__in=scheduled)
    for path in scope.area_paths:
        condition |= Q(community__path__startswith=path)
    return condition

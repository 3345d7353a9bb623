from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from treebeard.mp_tree import MP_Node, MP_NodeManager, MP_NodeQuerySet

from common.prepared import Prepared

from .roles import Role
from .scope import user_scope


class AreaLevel(models.TextChoices):
    DISTRICT = "district", _("District")
    STREET = "street", _("Street / town")
    COMMUNITY = "community", _("Community / village")
    GRID = "grid", _("Grid")
    DEDICATED = "dedicated", _("Dedicated grid")
    MICRO_GRID = "micro_grid", _("Micro-grid")


class DedicatedKind(models.TextChoices):
    SCHOOL = "school", _("School")
    HOSPITAL = "hospital", _("Hospital")
    MARKET = "market", _("Market")
    PARK = "park", _("Industrial park")
    OTHER = "other", _("Other")


# Which parent levels each level may hang under. Grids directly under a street and
# dedicated grids (school, hospital, market, park) exist in Zhengzhou and Guangming,
# so the tree allows them instead of forcing one rigid shape.
ALLOWED_PARENT_LEVELS: dict[str, tuple[str | None, ...]] = {
    AreaLevel.DISTRICT: (None,),
    AreaLevel.STREET: (AreaLevel.DISTRICT,),
    AreaLevel.COMMUNITY: (AreaLevel.STREET,),
    AreaLevel.GRID: (AreaLevel.COMMUNITY, AreaLevel.STREET),
    AreaLevel.DEDICATED: (AreaLevel.COMMUNITY, AreaLevel.STREET),
    AreaLevel.MICRO_GRID: (AreaLevel.GRID, AreaLevel.DEDICATED),
}


def parent_level_error(level: str, parent_level: str | None) -> str | None:
    """The user-facing reason why `level` cannot sit under `parent_level`, or None."""
    allowed = ALLOWED_PARENT_LEVELS.get(level)
    if allowed is None:
        return _("Unknown level “%(level)s”.") % {"level": level}
    if parent_level in allowed:
        return None
    if parent_level is None:
        return _("A %(level)s must have a parent area.") % {"level": AreaLevel(level).label}
    if None in allowed:
        return _("A %(level)s is a top-level area and cannot have a parent.") % {
            "level": AreaLevel(level).label
        }
    return _("A %(level)s cannot be placed under a %(parent)s; allowed parents: %(allowed)s.") % {
        "level": AreaLevel(level).label,
        "parent": AreaLevel(parent_level).label,
        "allowed": "、".join(str(AreaLevel(p).label) for p in allowed),
    }


class AreaQuerySet(MP_NodeQuerySet):
    def subtree_of(self, area: "Area"):
        # Materialized path: a prefix match on an indexed column (see Area.Meta.indexes).
        return self.filter(path__startswith=area.path)

    def visible_to(self, user):
        """Every area the user may see: the subtrees of their active area assignments."""
        scope = user_scope(user)
        if scope.sees_everything:
            return self.all()
        if not scope.area_paths:
            return self.none()
        condition = Q()
        for path in scope.area_paths:
            condition |= Q(path__startswith=path)
        return self.filter(condition)


class AreaManager(MP_NodeManager):
    def get_queryset(self):
        return AreaQuerySet(self.model).order_by("path")

    def visible_to(self, user):
        return self.get_queryset().visible_to(user)


class Area(MP_Node):
    """One node of the district → street → community → grid → micro-grid tree."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=AreaLevel.choices)
    dedicated_kind = models.CharField(
        _("dedicated grid kind"), max_length=16, choices=DedicatedKind.choices, blank=True
    )
    households = models.PositiveIntegerField(_("households"), default=0)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    # Redundant with the materialized path, kept so the admin can offer an autocomplete
    # parent picker and children can be listed by an indexed FK; services keep both in step.
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = AreaManager()

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["path"]
        indexes = [
            # Subtree queries (`path LIKE 'xxxx%'`) need a pattern-ops index on PostgreSQL
            # because the database collation is not "C"; ignored on SQLite.
            models.Index(
                fields=["path"], name="area_path_prefix", opclasses=["varchar_pattern_ops"]
            ),
            # Admin "filter by level" and level-restricted autocompletes.
            models.Index(fields=["level", "name"], name="area_level_name"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(level=AreaLevel.DEDICATED) & ~Q(dedicated_kind=""))
                | (~Q(level=AreaLevel.DEDICATED) & Q(dedicated_kind="")),
                name="area_dedicated_kind_iff_dedicated",
                violation_error_message=_("A dedicated grid needs a kind; other levels none."),
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="area_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="area_longitude_range",
            ),
        ]

    def __str__(self):
        return f"{self.name}（{self.get_level_display()}）"

    def clean(self):
        super().clean()
        error = parent_level_error(self.level, self.parent.level if self.parent_id else None)
        if error:
            raise ValidationError({"parent": error})
        if self.level == AreaLevel.DEDICATED and not self.dedicated_kind:
            raise ValidationError(
                {"dedicated_kind": _("Choose what kind of dedicated grid this is.")}
            )
        if self.level != AreaLevel.DEDICATED and self.dedicated_kind:
            raise ValidationError(
                {"dedicated_kind": _("Only a dedicated grid has a dedicated kind.")}
            )

    def ancestor_paths(self) -> list[str]:
        return [self.path[:end] for end in range(self.steplen, len(self.path), self.steplen)]


class Department(models.Model):
    """A district bureau cases can be dispatched to (labour, housing, water …)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    district = models.ForeignKey(
        Area,
        verbose_name=_("district"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        limit_choices_to={"level": AreaLevel.DISTRICT},
        related_name="departments",
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self):
        return self.name


def mask_phone(phone: str) -> str:
    """138****5678: enough to recognise a number, not enough to call it."""
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


class User(AbstractUser):
    real_name = models.CharField(_("real name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.real_name or self.username

    @property
    def display_name(self) -> str:
        return self.real_name or self.get_full_name() or self.username

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone) if self.phone else ""


L = AreaLevel
# Where each role may be assigned. None means "a department, not an area".
ROLE_PLACES: dict[str, tuple[str | None, ...]] = {
    Role.GRID_WORKER: (L.GRID, L.DEDICATED, L.MICRO_GRID),
    Role.MICRO_GRID_HEAD: (L.MICRO_GRID,),
    Role.MEDIATOR: (L.COMMUNITY, L.STREET, L.GRID, L.DEDICATED, L.DISTRICT),
    Role.COMMUNITY_SECRETARY: (L.COMMUNITY,),
    Role.STREET_STAFF: (L.STREET,),
    Role.STREET_LEADER: (L.STREET,),
    Role.DISTRICT_STAFF: (L.DISTRICT,),
    Role.DEPARTMENT_LIAISON: (None,),
    # "Three officers and a lawyer" are paired with a community (or a street).
    Role.JUDGE: (L.COMMUNITY, L.STREET),
    Role.PROSECUTOR: (L.COMMUNITY, L.STREET),
    Role.POLICE: (L.COMMUNITY, L.STREET, L.GRID),
    Role.LAWYER: (L.COMMUNITY, L.STREET),
    Role.ADMIN: tuple(AreaLevel.values),
}
THREE_OFFICERS_AND_A_LAWYER = (Role.JUDGE, Role.PROSECUTOR, Role.POLICE, Role.LAWYER)


def assignment_place_error(role: str, area: Area | None, department: Department | None):
    """A {field: message} dict explaining why (role, place) is not a valid assignment."""
    places = ROLE_PLACES.get(role)
    if places is None:
        return {"role": _("Unknown role “%(role)s”.") % {"role": role}}
    if area is not None and department is not None:
        return {"department": _("Choose an area or a department, not both.")}
    role_label = Role(role).label
    if places == (None,):
        if department is None:
            return {
                "department": _("A %(role)s is assigned to a department.") % {"role": role_label}
            }
        return None
    if area is None:
        return {"area": _("A %(role)s is assigned to an area.") % {"role": role_label}}
    if area.level not in places:
        return {
            "area": _("A %(role)s cannot be assigned to a %(level)s; allowed: %(allowed)s.")
            % {
                "role": role_label,
                "level": area.get_level_display(),
                "allowed": "、".join(str(AreaLevel(p).label) for p in places),
            }
        }
    return None


class AssignmentQuerySet(models.QuerySet):
    def active(self, at=None):
        at = at or timezone.now()
        return self.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=at), started_at__lte=at)


class Assignment(models.Model):
    """A user holding a role at an area or a department for a period.

    Ending an assignment sets `ended_at`; rows are never deleted by the product, and
    django-simple-history keeps every edit, so "who was responsible when" is answerable.
    """

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="assignments"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    area = models.ForeignKey(
        Area,
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    started_at = models.DateTimeField(_("from"), default=timezone.now)
    ended_at = models.DateTimeField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(verbose_name=_("historical assignment"))
    objects = AssignmentQuerySet.as_manager()
    # A user's assignments at a time, with their area or department: read for every request's
    # scope (grids.scope), so compiled once per connection (common.prepared).
    HELD = Prepared(
        lambda user_id, at: (
            Assignment.objects.filter(user_id=user_id)
            .active(at)
            .select_related("area", "department")
        )
    )

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["-started_at"]
        indexes = [
            # user_scope(): a user's active assignments on every request.
            models.Index(fields=["user", "ended_at"], name="assignment_user_active"),
            # "Who holds role R at area A" (mediator pickers, reception-day teams).
            models.Index(fields=["area", "role", "ended_at"], name="assignment_area_role"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(area__isnull=False, department__isnull=True)
                | Q(area__isnull=True, department__isnull=False)
                | Q(area__isnull=True, department__isnull=True, role="admin"),
                name="assignment_area_xor_department",
                violation_error_message=_("Choose an area or a department, not both."),
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="assignment_ends_after_start",
                violation_error_message=_("An assignment cannot end before it starts."),
            ),
        ]

    def __str__(self):
        place = self.area or self.department or _("whole system")
        return f"{self.user} · {self.get_role_display()} · {place}"

    def clean(self):
        super().clean()
        if self.role == Role.ADMIN and self.area_id is None and self.department_id is None:
            return
        error = assignment_place_error(
            self.role,
            self.area if self.area_id else None,
            self.department if self.department_id else None,
        )
        if error:
            raise ValidationError(error)

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.started_at <= now and (self.ended_at is None or self.ended_at > now)


class ImportJob(models.Model):
    """A CSV import started from the admin; the worker reports progress here."""

    class Kind(models.TextChoices):
        AREAS = "areas", _("Areas")
        STAFF = "staff", _("Staff")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("processed rows"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    created_by = models.ForeignKey(
        User, verbose_name=_("started by"), null=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.original_name}"

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status in (self.Status.SUCCEEDED, self.Status.FAILED) else 0
        return min(100, round(self.processed_rows * 100 / self.total_rows))

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class CalendarDay(models.Model):
    """Admin override of the statutory calendar: a holiday or a make-up working day (调休)
    for a year the chinese-calendar package does not know yet, or a local exception."""

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=50, blank=True)
    # The notice (or CSV) year this row came from; empty for a local exception typed by
    # hand, which a re-import of the year leaves alone.
    notice_year = models.PositiveSmallIntegerField(_("from the notice of"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.name}"


class CalendarYear(models.Model):
    """A year whose holidays and make-up working days were entered in full (the State
    Council's notice pasted, or a CSV), so the working-day calendar covers it even where
    the chinese-calendar package does not."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    source = models.CharField(
        _("source"),
        max_length=16,
        choices=[("notice", _("State Council notice")), ("csv", _("CSV file"))],
    )
    text = models.TextField(_("notice text"), blank=True)
    imported_at = models.DateTimeField(_("imported at"), auto_now=True)
    imported_by = models.ForeignKey(
        User, verbose_name=_("imported by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["-year"]

    def __str__(self):
        return str(self.year)

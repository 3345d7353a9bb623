"""考核: how units are scored each month (a scheme of weights and volume bands, edited in
the admin) and the monthly snapshots of their scorecards, frozen once published.

A published snapshot is evidence: its rows are never changed or deleted, and recomputing
its month makes a new version beside it (services.snapshot_compute). The rule is enforced
here as well as in the services, so neither the admin, a shell nor a queryset `update()`
can rewrite a published month."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    DISTRICT = "district", _("District")
    STREET = "street", _("Street / town")
    COMMUNITY = "community", _("Community")
    DEPARTMENT = "department", _("Department")
    PERSON = "person", _("Grid worker / mediator")


class Metric(models.TextChoices):
    """The scorecard's figures (their definitions and sources: metrics.py)."""

    ACCEPTANCE = "acceptance", _("Accepted / signed for on time")
    ASSIGNMENT = "assignment", _("Assigned on time")
    FIRST_HANDLING = "first_handling", _("First handled on time")
    CLOSING = "closing", _("Concluded on time")
    VERIFIED_RESOLUTION = "verified_resolution", _("Verified resolution rate")
    SATISFACTION = "satisfaction", _("Satisfaction rate")
    CALLBACK_COVERAGE = "callback_coverage", _("Callback coverage")
    CARDS_ANSWERED = "cards_answered", _("Supervision cards answered on time")
    CARDS_RECEIVED = "cards_received", _("Supervision cards received")


class FrozenError(ValidationError):
    """A published snapshot (or any snapshot row) was about to be changed."""


class AssessmentScheme(models.Model):
    """The weights of the figures and the volume bands units are ranked within. One scheme
    is active; a snapshot copies the weights and bands it used, so editing the scheme later
    changes no month already computed."""

    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("assessment scheme")
        verbose_name_plural = _("assessment schemes")
        ordering = ["-is_active", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=Q(is_active=True),
                name="assessmentscheme_one_active",
                violation_error_message=_("Only one scheme can be active."),
            ),
        ]

    def __str__(self):
        return self.name


class MetricWeight(models.Model):
    scheme = models.ForeignKey(AssessmentScheme, on_delete=models.CASCADE, related_name="weights")
    metric = models.CharField(_("figure"), max_length=32, choices=Metric.choices)
    weight = models.DecimalField(
        _("weight"),
        max_digits=6,
        decimal_places=2,
        help_text=_(
            "For a rate: its share of the score (weights are divided by the total of the "
            "rates a unit has figures for). For supervision cards received: points taken "
            "off the score per card."
        ),
    )

    class Meta:
        verbose_name = _("weight")
        verbose_name_plural = _("weights")
        ordering = ["scheme", "metric"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "metric"], name="metricweight_once"),
            models.CheckConstraint(condition=Q(weight__gte=0), name="metricweight_not_negative"),
        ]

    def __str__(self):
        return f"{self.get_metric_display()} {self.weight}"


class VolumeBand(models.Model):
    """Units of one kind are ranked against units of similar volume (cases in the month):
    a community with 5 cases is not compared with one with 300."""

    scheme = models.ForeignKey(AssessmentScheme, on_delete=models.CASCADE, related_name="bands")
    kind = models.CharField(_("units"), max_length=16, choices=UnitKind.choices)
    label = models.CharField(_("band"), max_length=50)
    min_volume = models.PositiveIntegerField(_("from (cases)"), default=0)
    max_volume = models.PositiveIntegerField(
        _("up to (cases, included)"), null=True, blank=True, help_text=_("Empty: no limit.")
    )

    class Meta:
        verbose_name = _("volume band")
        verbose_name_plural = _("volume bands")
        ordering = ["scheme", "kind", "min_volume"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_volume__isnull=True) | Q(max_volume__gte=models.F("min_volume")),
                name="volumeband_range",
                violation_error_message=_("The upper limit is below the lower one."),
            ),
        ]

    def __str__(self):
        return self.label


class SnapshotQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if self.filter(published=True).exists():
            raise FrozenError(_("A published assessment month cannot be changed."))
        return super().update(**kwargs)

    def delete(self):
        if self.filter(published=True).exists():
            raise FrozenError(_("A published assessment month cannot be deleted."))
        return super().delete()


class AssessmentSnapshot(models.Model):
    """One computation of a month's scorecards. Versions count up per month; the page shows
    the newest published version (district staff also see a newer draft, marked)."""

    month = models.DateField(_("month"), help_text=_("The first day of the month assessed."))
    version = models.PositiveIntegerField(_("version"))
    published = models.BooleanField(_("published"), default=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    computed_at = models.DateTimeField(_("computed at"))
    # Figures count what had happened by this moment (normally the month's end has passed).
    data_as_of = models.DateTimeField(_("data as of"))
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("computed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: the monthly task."),
    )
    scheme_name = models.CharField(_("scheme"), max_length=100)
    weights = models.JSONField(_("weights used"), default=dict)
    bands = models.JSONField(_("volume bands used"), default=list)
    seconds = models.FloatField(_("seconds to compute"), default=0)
    row_count = models.PositiveIntegerField(_("scorecards"), default=0)
    reason = models.CharField(_("why computed"), max_length=200, blank=True)

    objects = SnapshotQuerySet.as_manager()

    class Meta:
        verbose_name = _("assessment month")
        verbose_name_plural = _("assessment months")
        ordering = ["-month", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["month", "version"], name="snapshot_month_version"),
            models.CheckConstraint(
                condition=Q(published=False, published_at__isnull=True)
                | Q(published=True, published_at__isnull=False),
                name="snapshot_published_has_time",
            ),
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} v{self.version}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("published", flat=True)
            if True in stored:
                raise FrozenError(_("A published assessment month cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if type(self).objects.filter(pk=self.pk, published=True).exists():
            raise FrozenError(_("A published assessment month cannot be deleted."))
        return super().delete(*args, **kwargs)


class RowQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise FrozenError(_("Scorecards are never changed: recompute the month instead."))

    def delete(self):
        if self.filter(snapshot__published=True).exists():
            raise FrozenError(_("A published assessment month cannot be deleted."))
        return super().delete()


class AssessmentRow(models.Model):
    """One unit's scorecard in one snapshot. Names and places are copied in (plain ids, no
    foreign keys), so a renamed or moved area leaves a published month as it was."""

    # No index of its own: every index below starts with the snapshot.
    snapshot = models.ForeignKey(
        AssessmentSnapshot, on_delete=models.CASCADE, related_name="rows", db_index=False
    )
    kind = models.CharField(_("units"), max_length=16, choices=UnitKind.choices)
    unit_id = models.IntegerField()
    name = models.CharField(_("name"), max_length=150)
    place = models.CharField(_("place"), max_length=300, blank=True)
    district_id = models.IntegerField(null=True)
    street_id = models.IntegerField(null=True)
    community_id = models.IntegerField(null=True)
    volume = models.PositiveIntegerField(_("volume"))
    band = models.CharField(_("band"), max_length=50, blank=True)
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2, null=True)
    rank = models.PositiveIntegerField(_("rank"), null=True)
    ranked_among = models.PositiveIntegerField(null=True)
    # {metric: [part, whole]}; a count (cards received) is [n, null].
    figures = models.JSONField(default=dict)

    objects = RowQuerySet.as_manager()

    class Meta:
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        # No default ordering: ordering by the snapshot would join its table into every
        # read (the pages sort by band and rank themselves).
        indexes = [
            # A unit's own scorecard and its six months of trend.
            models.Index(fields=["snapshot", "kind", "unit_id"], name="assessrow_unit"),
            # The drill-down: one kind of unit in a district, a street, a community.
            models.Index(fields=["snapshot", "kind", "district_id"], name="assessrow_district"),
            models.Index(fields=["snapshot", "kind", "street_id"], name="assessrow_street"),
            models.Index(fields=["snapshot", "kind", "community_id"], name="assessrow_community"),
        ]

    def __str__(self):
        return f"{self.snapshot} {self.kind} {self.name}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise FrozenError(_("Scorecards are never changed: recompute the month instead."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if AssessmentSnapshot.objects.filter(pk=self.snapshot_id, published=True).exists():
            raise FrozenError(_("A published assessment month cannot be deleted."))
        return super().delete(*args, **kwargs)

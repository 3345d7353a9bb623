"""The mediation file (卷宗): each archiving of a case is a new, frozen version."""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from disputes.models import Case
from grids.models import Area


def archive_path(instance, filename):
    """casefiles/<case id>/<name>: named by the service from a random token, never from
    anything a client sent."""
    return f"casefiles/{instance.case_id}/{filename}"


class ArchiveSequence(models.Model):
    """The last archive number given per unit and year (locked when the next is taken)."""

    unit = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "year"], name="archivesequence_unit_year")
        ]

    def __str__(self):
        return f"{self.unit_id} {self.year}: {self.last}"


class FrozenArchive(Exception):
    pass


class CaseFileArchive(models.Model):
    """One archiving of a case's file. Once ready it is frozen: the PDF (full) and its copy
    with the parties' phone and ID numbers masked keep their SHA-256; archiving again makes
    the next version and leaves this one as it is."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        BUILDING = "building", _("Being built")
        READY = "ready", _("Archived")
        FAILED = "failed", _("Failed")

    class Reason(models.TextChoices):
        CLOSED = "closed", _("Case closed")
        AGAIN = "again", _("Archived again")

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="archives"
    )
    version = models.PositiveIntegerField(_("version"))
    unit = models.ForeignKey(
        Area, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveIntegerField(_("year"))
    sequence = models.PositiveIntegerField()
    number = models.CharField(_("archive number"), max_length=120)
    reason = models.CharField(_("why"), max_length=8, choices=Reason.choices)
    # The closing event that asked for it: one archive per close, however often asked.
    trigger_event_id = models.BigIntegerField(null=True, blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    error = models.TextField(blank=True)
    file = models.FileField(upload_to=archive_path, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    masked_file = models.FileField(upload_to=archive_path, blank=True)
    masked_sha256 = models.CharField(_("SHA-256 (masked copy)"), max_length=64, blank=True)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    masked_pages = models.PositiveIntegerField(default=0)
    # [{"slot", "section", "title", "page", "pages"}] for each copy: the file's own index.
    index = models.JSONField(default=list, blank=True)
    masked_index = models.JSONField(default=list, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    built_at = models.DateTimeField(_("archived at"), null=True, blank=True)

    class Meta:
        verbose_name = _("mediation file")
        verbose_name_plural = _("mediation files")
        ordering = ["case", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["case", "version"], name="casefilearchive_version"),
            # The race of two closes, or a close's task run twice: one archive.
            models.UniqueConstraint(
                fields=["trigger_event_id"],
                condition=Q(trigger_event_id__isnull=False),
                name="casefilearchive_one_per_close",
            ),
        ]
        indexes = [
            # services.requeue_stale: archives still waiting for their build.
            models.Index(
                fields=["created_at"],
                name="casefilearchive_waiting",
                condition=Q(status__in=["queued", "building"]),
            ),
        ]

    def __str__(self):
        return f"{self.number} v{self.version}"

    def save(self, *args, **kwargs):
        # A frozen file never changes: its fields may not be written again.
        if self.pk and self._frozen_in_database():
            raise FrozenArchive(f"archive {self.pk} is frozen")
        super().save(*args, **kwargs)

    def _frozen_in_database(self) -> bool:
        return CaseFileArchive.objects.filter(pk=self.pk, status=self.Status.READY).exists()

    @property
    def ready(self) -> bool:
        return self.status == self.Status.READY


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

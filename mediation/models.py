"""Mediation as it is really done (人民调解): sessions with their record (调解笔录), the
agreement (调解协议书) built from a template per dispute type, its signatures, the obligations
it sets and their performance, and the judicial confirmation (司法确认) a court may give it.
Every printed paper is a `Document`, rendered to PDF by a Celery task."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def document_path(instance, filename: str) -> str:
    return f"mediation/{instance.case_id}/{filename}"


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("To be held")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


class MediationSession(models.Model):
    """One meeting of the parties with the mediators (a room, the site, or online)."""

    case = models.ForeignKey(
        "disputes.Case", on_delete=models.CASCADE, related_name="mediation_sessions"
    )
    number = models.PositiveSmallIntegerField(_("session"))  # 1, 2 … within the case
    starts_at = models.DateTimeField(_("starts at"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    online = models.BooleanField(_("online"), default=False)
    online_link = models.CharField(_("online meeting link or room"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED
    )
    mediators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("mediators"), related_name="+"
    )
    # The "three officers and a lawyer" invited to this session (三官一律), if any.
    invited = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("invited"), blank=True, related_name="+"
    )
    record = models.TextField(_("mediation record"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), null=True, blank=True)
    # Bumped by every save of the record: a form opened before someone else's save is stale.
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("mediation session")
        verbose_name_plural = _("mediation sessions")
        ordering = ["case", "number"]
        constraints = [
            # The case page lists a case's sessions by this (case, number) index too.
            models.UniqueConstraint(fields=["case", "number"], name="medsession_case_number"),
        ]

    def __str__(self):
        return f"{self.case_id}#{self.number}"


class Attendance(models.Model):
    """Who was asked to come to a session and whether they came: a party of the case
    (summoned by SMS) or a person of the staff (mediator, invited officer)."""

    session = models.ForeignKey(
        MediationSession, on_delete=models.CASCADE, related_name="attendance"
    )
    party = models.ForeignKey(
        "disputes.Party", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    summoned_at = models.DateTimeField(null=True, blank=True)  # the SMS was queued
    present = models.BooleanField(null=True)  # None: not recorded yet

    class Meta:
        ordering = ["session", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(party__isnull=False) ^ Q(user__isnull=False),
                name="attendance_party_or_user",
            ),
            models.UniqueConstraint(fields=["session", "party"], name="attendance_party"),
            models.UniqueConstraint(fields=["session", "user"], name="attendance_user"),
        ]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return self.party.name if self.party_id else self.user.display_name


class AgreementTemplate(models.Model):
    """The wording of an agreement for a dispute type (admin-editable): a first-level type
    covers its second-level types; the one without a type is the fallback."""

    category = models.OneToOneField(
        "disputes.Category",
        verbose_name=_("dispute type"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="agreement_template",
    )
    title = models.CharField(_("title"), max_length=100, default="人民调解协议书")
    facts_hint = models.TextField(_("facts: starting text"), blank=True)
    items_hint = models.TextField(_("disputed items: starting text"), blank=True)
    clauses = models.TextField(
        _("standing clauses"),
        help_text=_("Printed after the obligations, one clause per line."),
        blank=True,
    )

    class Meta:
        verbose_name = _("agreement template")
        verbose_name_plural = _("agreement templates")
        ordering = ["category_id"]

    def __str__(self):
        return f"{self.title} ({self.category or _('all types')})"


class AgreementNumber(models.Model):
    """The last agreement number per prefix and year (渝中调〔2026〕123号): incremented by one
    UPDATE under the row lock, so concurrent agreements never share a number."""

    prefix = models.CharField(max_length=20)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="agreementnumber_prefix_year")
        ]

    def __str__(self):
        return f"{self.prefix}〔{self.year}〕{self.last}"


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNED = "signed", _("Signed")
    SUPERSEDED = "superseded", _("Superseded by a new version")


class Agreement(models.Model):
    """One version of a case's mediation agreement. Signed, it is frozen: the final PDF's
    SHA-256 is kept and a change makes a new version (same number, version + 1)."""

    case = models.ForeignKey("disputes.Case", on_delete=models.CASCADE, related_name="agreements")
    number = models.CharField(_("agreement number"), max_length=40)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    template = models.ForeignKey(
        AgreementTemplate, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(_("title"), max_length=100)
    facts = models.TextField(_("facts"))
    disputed_items = models.TextField(_("disputed items"))
    clauses = models.TextField(_("standing clauses"), blank=True)
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("mediator"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT
    )
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)  # takes effect
    sha256 = models.CharField(_("SHA-256 of the signed PDF"), max_length=64, blank=True)
    # A change to the text since the draft PDF was made: the page offers a new one.
    revision = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("mediation agreement")
        verbose_name_plural = _("mediation agreements")
        ordering = ["case", "version"]
        constraints = [
            models.UniqueConstraint(fields=["number", "version"], name="agreement_number_version"),
            # One current (not superseded) version per case: a race of two "new version"
            # clicks leaves one.
            models.UniqueConstraint(
                fields=["case"],
                condition=~Q(status="superseded"),
                name="agreement_one_current",
            ),
        ]

    def __str__(self):
        return self.number if self.version == 1 else f"{self.number} v{self.version}"

    @property
    def frozen(self) -> bool:
        return self.status != AgreementStatus.DRAFT


class ObligationStatus(models.TextChoices):
    PENDING = "pending", _("To perform")
    PERFORMED = "performed", _("Performed")
    OVERDUE = "overdue", _("Overdue")


class Obligation(models.Model):
    """One thing a party must do under the agreement: what, how much, by when, how."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="obligations")
    position = models.PositiveSmallIntegerField(default=1)
    party = models.ForeignKey(
        "disputes.Party",
        verbose_name=_("obliged party"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    description = models.CharField(_("obligation"), max_length=300)
    amount = models.DecimalField(
        _("amount (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    due_on = models.DateField(_("deadline"))
    manner = models.CharField(_("manner of performance"), max_length=200, blank=True)
    status = models.CharField(
        max_length=16, choices=ObligationStatus.choices, default=ObligationStatus.PENDING
    )
    performed_at = models.DateTimeField(null=True, blank=True)
    performed_note = models.CharField(_("note"), max_length=300, blank=True)
    proof = models.FileField(_("proof of performance"), upload_to="mediation/proofs/", blank=True)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["agreement", "position", "id"]

    def __str__(self):
        return self.description


class Signature(models.Model):
    """A signature on one agreement version: drawn on the phone (PNG) by a party or the
    mediator, with the time and who held the phone; or a scan of the signed paper."""

    class Method(models.TextChoices):
        DRAWN = "drawn", _("Drawn on the screen")
        SCAN = "scan", _("Signed paper, scanned")

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="signatures")
    party = models.ForeignKey(
        "disputes.Party", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(  # the mediator signing for the mediation committee
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signer_name = models.CharField(_("signer"), max_length=100)
    method = models.CharField(max_length=8, choices=Method.choices, default=Method.DRAWN)
    image = models.FileField(upload_to="mediation/signatures/")
    sha256 = models.CharField(max_length=64)
    signed_at = models.DateTimeField(_("signed at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["agreement", "signed_at", "id"]
        constraints = [
            # Each signer signs a version once: the unique index settles a double tap.
            models.UniqueConstraint(fields=["agreement", "party"], name="signature_party"),
            models.UniqueConstraint(fields=["agreement", "user"], name="signature_user"),
        ]

    def __str__(self):
        return self.signer_name


class DocumentKind(models.TextChoices):
    NOTICE = "notice", _("Notice of rights and duties")
    RECORD = "record", _("Mediation record")
    AGREEMENT = "agreement", _("Mediation agreement")


class DocumentStatus(models.TextChoices):
    PENDING = "pending", _("Being prepared")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class Document(models.Model):
    """A printed paper of the mediation, rendered to PDF by a worker: the full file, and a
    copy with the parties' phone and ID numbers masked for viewers who may not see them."""

    case = models.ForeignKey("disputes.Case", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=DocumentKind.choices)
    session = models.ForeignKey(
        MediationSession, null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    agreement = models.ForeignKey(
        Agreement, null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    # The agreement's text revision it was made from (a newer draft needs a new PDF).
    revision = models.PositiveIntegerField(default=0)
    final = models.BooleanField(default=False)  # the signed agreement
    status = models.CharField(
        max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.PENDING
    )
    file = models.FileField(upload_to=document_path, blank=True)
    masked_file = models.FileField(upload_to=document_path, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    pages = models.PositiveIntegerField(default=0)
    render_seconds = models.FloatField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["case", "created_at", "id"]
        indexes = [
            # The case page and the case file: a case's documents.
            models.Index(fields=["case", "kind"], name="meddoc_case_kind"),
        ]

    def __str__(self):
        return self.filename

    @property
    def filename(self) -> str:
        return f"{self.get_kind_display()}-{self.pk}.pdf"


class ConfirmationStatus(models.TextChoices):
    APPLIED = "applied", _("Applied, awaiting the court")
    ACCEPTED = "accepted", _("Accepted by the court")
    NOT_ACCEPTED = "not_accepted", _("Not accepted")
    CONFIRMED = "confirmed", _("Confirmed")
    REFUSED = "refused", _("Confirmation refused")


class JudicialConfirmation(models.Model):
    """The parties' joint application to a court to confirm the agreement (司法确认): within
    30 days after it takes effect; the court decides within 3 days whether to accept."""

    agreement = models.OneToOneField(
        Agreement, on_delete=models.CASCADE, related_name="confirmation"
    )
    court = models.CharField(_("court"), max_length=100)
    applied_on = models.DateField(_("applied on"))
    status = models.CharField(
        max_length=16, choices=ConfirmationStatus.choices, default=ConfirmationStatus.APPLIED
    )
    decided_on = models.DateField(_("court decided on"), null=True, blank=True)
    ruling_number = models.CharField(_("ruling number"), max_length=60, blank=True)
    ruling_date = models.DateField(_("ruling date"), null=True, blank=True)
    papers = models.FileField(_("court papers"), upload_to="mediation/confirmations/", blank=True)
    court_late = models.BooleanField(default=False)  # no decision within 3 days, recorded once
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("judicial confirmation")
        verbose_name_plural = _("judicial confirmations")

    def __str__(self):
        return f"{self.court} {self.applied_on}"

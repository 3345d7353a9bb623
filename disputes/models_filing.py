"""The filing's bookkeeping tables: case numbers per year, the clients' filing keys and the
applicant's tracking code. Apart from models.py to keep that module readable; models.py
imports this module, which registers them all with the app (CaseTracking is imported from
here, models.py being at its size limit)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseNumberSequence(models.Model):
    """One row per year; incremented under a row lock so concurrent filings never share a
    number and numbers stay dense and readable (JF2026-000123)."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last}"


class FilingKey(models.Model):
    """A key the client makes for one filing (the form's hidden field, the API's
    Idempotency-Key header): a retry after a lost reply or a double tap on 提交 finds the
    first case instead of filing a second. A separate table, not a column on the wide case
    table: only keyed filings pay for it, and the unique index is what settles a race."""

    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", editable=False
    )
    key = models.CharField(_("filing key"), max_length=64)
    # What was filed under the key (services.filing.fingerprint): the same key with other
    # content is a client bug or a reused form, refused rather than silently answered.
    fingerprint = models.CharField(max_length=64)
    case = models.OneToOneField(
        "Case", on_delete=models.CASCADE, related_name="filing_key", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("filing key")
        verbose_name_plural = _("filing keys")
        constraints = [
            models.UniqueConstraint(fields=["filed_by", "key"], name="filingkey_user_key"),
        ]

    def __str__(self):
        return self.key


class CaseTracking(models.Model):
    """The applicant's handle on a case filed by staff: a tracking code that opens the
    public tracking page (residents' own QR reports have theirs on ResidentReport), and
    whether they are told of its steps by SMS. Made when the case is filed."""

    case = models.OneToOneField(
        "Case", primary_key=True, on_delete=models.CASCADE, related_name="tracking"
    )
    # Ten characters from 31 (about 49 bits): the code alone opens the tracking page, so it
    # must not be guessable; upper case, read back case-insensitively. Unique: the page's
    # lookup by code.
    code = models.CharField(_("tracking code"), max_length=16, unique=True, editable=False)
    # The applicant's mobile the SMS go to (digits only); empty: none was given.
    phone = models.CharField(_("mobile for SMS"), max_length=20, blank=True)
    # The filer's "tell the applicant by SMS" (ticked by default).
    sms = models.BooleanField(_("SMS to the applicant"), default=True)
    # The applicant turned SMS off on the tracking page; nothing more is sent.
    sms_stopped_at = models.DateTimeField(_("SMS turned off by the applicant at"), null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("case tracking code")
        verbose_name_plural = _("case tracking codes")

    def __str__(self):
        return self.code

    @property
    def display_code(self) -> str:
        """ABCDE-FGHJK: two groups are easier to read out over the phone."""
        return f"{self.code[:5]}-{self.code[5:]}"

    @property
    def texts(self) -> bool:
        """Whether the applicant is told of the case's steps by SMS."""
        return bool(self.phone) and self.sms and self.sms_stopped_at is None

"""The filing's bookkeeping tables: case numbers per year and the clients' filing keys.
Apart from models.py (which re-exports them) to keep that module readable."""

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

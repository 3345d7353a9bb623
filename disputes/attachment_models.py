"""Photos and PDFs on a case, and the small preview of each photo.

Kept out of models.py (which is at its size limit); models.py imports it so Django
registers the model with the disputes app. What is accepted and how a photo is prepared
before it is stored: attachments.py and photos.py."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def attachment_path(instance, filename):
    """cases/<case id>/<name>: the stored file and its thumbnail side by side. The callers
    name them from the attachment's random token, never from what the client sent."""
    return f"cases/{instance.case_id}/{filename}"


class Attachment(models.Model):
    class Kind(models.TextChoices):
        PHOTO = "photo", _("Photo")
        PDF = "pdf", _("PDF")

    case = models.ForeignKey("disputes.Case", on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(
        "disputes.CaseEvent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attachments",
    )
    token = models.CharField(max_length=32, unique=True, editable=False)
    extension = models.CharField(max_length=8)
    file = models.FileField(upload_to=attachment_path)
    # A JPEG at most THUMBNAIL_SIDE px (disputes.photos) for lists and the case page; empty
    # for PDFs, and for photos stored before thumbnails existed until
    # `manage.py make_thumbnails` has run (pages then show the photo itself).
    thumbnail = models.FileField(_("thumbnail"), upload_to=attachment_path, blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    original_name = models.CharField(_("file name"), max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.original_name

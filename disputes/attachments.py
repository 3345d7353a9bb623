"""Photos and PDFs on a case: what is accepted (sniffed type, size) and how it is stored."""

import secrets

import filetype
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import Attachment, Case, CaseEvent

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024

ALLOWED_TYPES = {
    "image/jpeg": (".jpg", Attachment.Kind.PHOTO),
    "image/png": (".png", Attachment.Kind.PHOTO),
    "image/webp": (".webp", Attachment.Kind.PHOTO),
    "image/gif": (".gif", Attachment.Kind.PHOTO),
    "image/heic": (".heic", Attachment.Kind.PHOTO),
    "application/pdf": (".pdf", Attachment.Kind.PDF),
}


def _size(upload) -> int:
    """Django uploads know their size; plain file objects (API clients, scripts) are measured."""
    size = getattr(upload, "size", None)
    if size is None:
        position = upload.tell()
        upload.seek(0, 2)
        size = upload.tell()
        upload.seek(position)
    return size


def attachment_check(upload) -> tuple[str, str]:
    """(content type, kind) judged from the bytes, not the name; ValidationError if not
    a photo or a PDF, or larger than 10 MB."""
    name = getattr(upload, "name", "") or _("file")
    if _size(upload) > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            _("“%(name)s” is larger than 10 MB.") % {"name": name}, code="too_large"
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    guess = filetype.guess(head)
    if guess is None or guess.mime not in ALLOWED_TYPES:
        raise ValidationError(
            _("“%(name)s” is not a photo or a PDF.") % {"name": name}, code="bad_type"
        )
    return guess.mime, ALLOWED_TYPES[guess.mime][1]


def validate_attachments(files, field: str = "photos"):
    errors = []
    for upload in files:
        try:
            attachment_check(upload)
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError({field: errors})


def validate_note_and_photos(note: str, photos, missing_note: str) -> None:
    """A report with evidence (progress, a department's completion report): the note is
    required, the photos must be images or PDFs; every problem at once, by field."""
    errors = {}
    if not (note or "").strip():
        errors["note"] = [missing_note]
    try:
        validate_attachments(photos)
    except ValidationError as exc:
        errors |= exc.message_dict
    if errors:
        raise ValidationError(errors)


def store_attachments(case: Case, files, *, actor, event: CaseEvent | None) -> list[Attachment]:
    stored = []
    for upload in files:
        mime, kind = attachment_check(upload)
        token = secrets.token_hex(16)
        attachment = Attachment(
            case=case,
            event=event,
            token=token,
            extension=ALLOWED_TYPES[mime][0],
            kind=kind,
            content_type=mime,
            size=_size(upload),
            original_name=(getattr(upload, "name", "") or "upload")[:200],
            uploaded_by=actor,
        )
        attachment.file.save(f"{token}{attachment.extension}", upload, save=False)
        attachment.save()
        stored.append(attachment)
    return stored

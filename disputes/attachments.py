"""Photos and PDFs on a case: what is accepted (sniffed type, size, a photo that decodes)
and how it is stored (photos prepared by photos.py: HEIC as JPEG, upright, location removed
unless the case has one, with a thumbnail)."""

import secrets
from dataclasses import dataclass

import filetype
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from .models import Attachment, Case, CaseEvent
from .photos import PreparedPhoto, photo_check, prepare_photo, renamed, thumbnail_of

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024

ALLOWED_TYPES = {
    "image/jpeg": (".jpg", Attachment.Kind.PHOTO),
    "image/png": (".png", Attachment.Kind.PHOTO),
    "image/webp": (".webp", Attachment.Kind.PHOTO),
    "image/gif": (".gif", Attachment.Kind.PHOTO),
    "image/heic": (".heic", Attachment.Kind.PHOTO),  # iPhones; stored as JPEG (photos.py)
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


def _sniff(upload) -> tuple[str, str]:
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


def attachment_check(upload) -> tuple[str, str]:
    """(content type, kind) judged from the bytes, not the name; ValidationError if not
    a photo or a PDF, larger than 10 MB, or a photo that does not decode."""
    mime, kind = _sniff(upload)
    if kind == Attachment.Kind.PHOTO:
        photo_check(upload, getattr(upload, "name", "") or _("file"))
    return mime, kind


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


@dataclass(frozen=True)
class _Ready:
    upload: object
    name: str
    kind: str
    photo: PreparedPhoto


def _prepare(upload, *, keep_location: bool) -> _Ready:
    mime, kind = _sniff(upload)  # prepare_photo decodes the photo: that is its check
    extension = ALLOWED_TYPES[mime][0]
    name = (getattr(upload, "name", "") or "upload")[:200]
    if kind != Attachment.Kind.PHOTO:
        return _Ready(upload, name, kind, PreparedPhoto(None, mime, extension, b""))
    photo = prepare_photo(
        upload, name=name, content_type=mime, extension=extension, keep_location=keep_location
    )
    if photo.content_type != mime:  # IMG_0001.HEIC stored as JPEG downloads as IMG_0001.jpg
        name = renamed(name, photo.extension)
    return _Ready(upload, name, kind, photo)


def store_attachments(
    case: Case, files, *, actor, event: CaseEvent | None, field: str = "photos"
) -> list[Attachment]:
    """Stores the files for the case inside the caller's transaction. Every photo is
    prepared before the first file is written, so a bad one leaves no file behind. A photo
    keeps its location only when the case has one: the worker chose "use my location".
    The callers validated the files already; `field` names them if one fails here anyway."""
    keep_location = case.latitude is not None
    try:
        ready = [_prepare(upload, keep_location=keep_location) for upload in files]
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc
    stored = []
    for item in ready:
        upload, photo = item.upload, item.photo
        token = secrets.token_hex(16)
        attachment = Attachment(
            case=case,
            event=event,
            token=token,
            extension=photo.extension,
            kind=item.kind,
            content_type=photo.content_type,
            size=_size(upload) if photo.content is None else len(photo.content),
            original_name=item.name,
            uploaded_by=actor,
        )
        content = upload if photo.content is None else ContentFile(photo.content)
        attachment.file.save(f"{token}{photo.extension}", content, save=False)
        if photo.thumbnail:
            thumbnail = ContentFile(photo.thumbnail)
            attachment.thumbnail.save(f"{token}_thumb.jpg", thumbnail, save=False)
        attachment.save()
        stored.append(attachment)
    return stored


def thumbnail_fill(attachment: Attachment) -> bool:
    """Makes the missing thumbnail of a photo stored before thumbnails existed (`manage.py
    make_thumbnails`). False if another run filled it first (its file is then removed).
    ValidationError if the stored photo cannot be read, OSError if its file is gone."""
    with attachment.file.open("rb") as source:
        data = thumbnail_of(source, attachment.original_name)
    thumbnail = attachment.thumbnail
    thumbnail.save(f"{attachment.token}_thumb.jpg", ContentFile(data), save=False)
    filled = Attachment.objects.filter(pk=attachment.pk, thumbnail="").update(
        thumbnail=thumbnail.name
    )
    if not filled:
        thumbnail.storage.delete(thumbnail.name)
    return bool(filled)

"""Photos as the server stores them (issue #16, "light photos").

Every photo is decoded once before anything is saved, so a damaged file is refused with a
clear message instead of being stored and shown as a broken image. Then, before storing:
- HEIC/HEIF (iPhones) becomes JPEG: no browser but Safari can show HEIC;
- a photo whose EXIF says "turn me" is turned, so every viewer shows it upright;
- the location (the EXIF GPS block, and XMP, which may repeat it) is removed unless the
  case itself carries a location, i.e. the worker chose to attach where they stood;
- a thumbnail (JPEG, longest side THUMBNAIL_SIDE px) is made for lists and the case page.
A photo that needs none of the first three is stored byte for byte as it came. One that must
be re-encoded is treated as static/js/filing.js treats it in the browser: upright, longest
side at most STORED_SIDE px, JPEG quality 85; PNG stays PNG at full size (screenshots of
chats and documents keep their small text readable)."""

import io
import os
from dataclasses import dataclass

import pillow_heif
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageOps

pillow_heif.register_heif_opener()

STORED_SIDE = 1920  # as PHOTO_SIDE in static/js/filing.js
STORED_QUALITY = 85
THUMBNAIL_SIDE = 320
THUMBNAIL_QUALITY = 80
# A 48-megapixel iPhone photo is 8064 × 6048; more than this is no camera photo, and
# decoding it would hold several hundred MB in a web worker.
MAX_PIXELS = 64_000_000

ORIENTATION = ExifTags.Base.Orientation
GPS = ExifTags.IFD.GPSInfo
DRAFTED = {"JPEG", "MPO"}  # the formats Image.draft decodes at a fraction of their size


@dataclass(frozen=True)
class PreparedPhoto:
    content: bytes | None  # None: store the upload as it came
    content_type: str
    extension: str
    thumbnail: bytes


def _unreadable(name: str) -> ValidationError:
    return ValidationError(
        _("“%(name)s” cannot be read as a photo: the file is damaged or incomplete.")
        % {"name": name},
        code="bad_image",
    )


def _open(upload, name: str, *, draft: bool) -> Image.Image:
    """The decoded first frame. `draft`: JPEG may decode at a fraction of its size (enough to
    prove the whole file is there and to make a thumbnail, and eight times faster)."""
    upload.seek(0)
    too_many = ValidationError(
        _("“%(name)s” has too many pixels to be a camera photo.") % {"name": name},
        code="too_many_pixels",
    )
    try:
        image = Image.open(upload)
        if image.width * image.height > MAX_PIXELS:
            raise too_many
        if draft:
            image.draft("RGB", (THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        image.load()
    except ValidationError:
        raise
    except Image.DecompressionBombError as exc:  # Pillow's own, far larger, limit
        raise too_many from exc
    # Decoders report bad input with many exception types (OSError, ValueError, SyntaxError,
    # struct.error, EOFError …); each of them means "not a photo we can read".
    except Exception as exc:
        raise _unreadable(name) from exc
    finally:
        upload.seek(0)
    return image


def photo_check(upload, name: str) -> None:
    """ValidationError unless the whole photo decodes."""
    _open(upload, name, draft=True)


def _flat(image: Image.Image) -> Image.Image:
    """RGB for JPEG: transparency onto white (a transparent PNG would turn black)."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, "white")
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image if image.mode == "RGB" else image.convert("RGB")


def thumbnail_bytes(image: Image.Image) -> bytes:
    """A JPEG of an upright image, longest side at most THUMBNAIL_SIDE, no metadata but the
    colour profile."""
    small = _flat(image)
    small = small.copy() if small is image else small
    small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    out = io.BytesIO()
    small.save(
        out,
        "JPEG",
        quality=THUMBNAIL_QUALITY,
        optimize=True,
        icc_profile=image.info.get("icc_profile"),
    )
    return out.getvalue()


def thumbnail_of(source, name: str) -> bytes:
    """The thumbnail of a stored photo (`manage.py make_thumbnails`)."""
    return thumbnail_bytes(ImageOps.exif_transpose(_open(source, name, draft=True)))


def _needs_rewrite(image: Image.Image, *, keep_location: bool) -> bool:
    if image.format == "HEIF":
        return True
    if image.format != "MPO" and getattr(image, "n_frames", 1) > 1:
        # An animation is stored as it is: cameras make none, and GIF carries no EXIF.
        # (MPO is a camera JPEG with extra frames: it is rewritten like any JPEG.)
        return False
    exif = image.getexif()
    if exif.get(ORIENTATION, 1) != 1:
        return True
    return not keep_location and (GPS in exif or "xmp" in image.info)


def _encoded(upright: Image.Image, source: Image.Image, *, keep_location: bool):
    """(bytes, content type, extension) of the upright image without what must go."""
    exif = upright.getexif()
    if not keep_location:
        exif.pop(GPS, None)
    exif.pop(ORIENTATION, None)  # the pixels are upright now
    keep = {"icc_profile": source.info.get("icc_profile")}
    if len(exif):
        keep["exif"] = exif.tobytes()
    out = io.BytesIO()
    if source.format == "PNG":
        upright.save(out, "PNG", optimize=True, **keep)
        return out.getvalue(), "image/png", ".png"
    flat = _flat(upright)
    flat = flat.copy() if flat is upright else flat
    flat.thumbnail((STORED_SIDE, STORED_SIDE))
    flat.save(out, "JPEG", quality=STORED_QUALITY, optimize=True, **keep)
    return out.getvalue(), "image/jpeg", ".jpg"


def prepare_photo(
    upload, *, name: str, content_type: str, extension: str, keep_location: bool
) -> PreparedPhoto:
    """What to store for one photo (see the module's docstring); ValidationError if it
    does not decode."""
    image = _open(upload, name, draft=True)
    thumbnail = thumbnail_bytes(ImageOps.exif_transpose(image))
    if not _needs_rewrite(image, keep_location=keep_location):
        return PreparedPhoto(None, content_type, extension, thumbnail)
    if image.format in DRAFTED:
        image = _open(upload, name, draft=False)
    upright = ImageOps.exif_transpose(image)
    content, content_type, extension = _encoded(upright, image, keep_location=keep_location)
    return PreparedPhoto(content, content_type, extension, thumbnail)


def renamed(original_name: str, extension: str) -> str:
    """The name a converted photo is downloaded under: its own stem, the new extension."""
    stem, _old = os.path.splitext(original_name)
    return f"{stem or 'photo'}{extension}"[-200:]

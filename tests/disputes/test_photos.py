"""Light photos on the server (issue #16): a thumbnail for lists, the case page and the API;
HEIC from iPhones stored as JPEG; photos turned upright; the location removed unless the case
carries one; PDFs untouched; a damaged photo refused with nothing saved; previews for photos
stored before this by `manage.py make_thumbnails`."""

import io
from decimal import Decimal
from pathlib import Path

import pillow_heif
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import ExifTags, Image
from rest_framework.test import APIClient

from disputes import services
from disputes.demo import seed_categories
from disputes.models import Attachment, Case, CaseEvent, Category
from disputes.photos import STORED_SIDE, THUMBNAIL_SIDE
from grids.models import Area, User
from tests.disputes.test_pages import file_case, filing_post, login

pytestmark = pytest.mark.django_db

GPS = ExifTags.IFD.GPSInfo
ORIENTATION = ExifTags.Base.Orientation
HERE = {"latitude": Decimal("29.556123"), "longitude": Decimal("106.572001")}


@pytest.fixture
def world(demo):
    """The demo district, as tests/disputes/test_pages.py uses it (its helpers take it)."""
    seed_categories()
    return {
        "users": {u.username: u for u in User.objects.all()},
        "micro": Area.objects.get(code="500103001001G01M01"),
        "wages": Category.objects.get(code="1001"),
    }


def camera_exif(*, orientation: int = 1, gps: bool = True) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Apple"
    exif[ORIENTATION] = orientation
    if gps:
        exif[GPS] = {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (29.0, 33.0, 22.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (106.0, 34.0, 19.0),
        }
    return exif


def two_colours(width=1200, height=800) -> Image.Image:
    """Red on the left, blue on the right: which way up it is stored can be read back."""
    image = Image.new("RGB", (width, height), (220, 20, 20))
    image.paste((20, 20, 220), (width // 2, 0, width, height))
    return image


def upload(data: bytes, name: str) -> io.BytesIO:
    buffer = io.BytesIO(data)
    buffer.name = name
    return buffer


def camera_jpeg(name="IMG_0001.JPG", *, orientation=1, gps=True, size=(1200, 800)):
    buffer = io.BytesIO()
    exif = camera_exif(orientation=orientation, gps=gps)
    two_colours(*size).save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    return upload(buffer.getvalue(), name)


def iphone_heic(name="IMG_0002.HEIC"):
    buffer = io.BytesIO()
    heif = pillow_heif.from_pillow(two_colours(800, 600))
    heif.save(buffer, quality=60, exif=camera_exif().tobytes())
    return upload(buffer.getvalue(), name)


def pdf(name="协议.pdf"):
    return upload(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", name)


def stored_image(field_file) -> Image.Image:
    with field_file.open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return image


def media_files():
    return sorted(p.name for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file())


def the_attachment(case) -> Attachment:
    return Attachment.objects.get(case=case)


# --- thumbnails ---------------------------------------------------------------------------


def test_it_makes_a_small_jpeg_thumbnail_beside_the_photo(world):
    case = file_case(world, photos=[camera_jpeg()])

    attachment = the_attachment(case)
    thumbnail = stored_image(attachment.thumbnail)
    assert thumbnail.format == "JPEG"
    assert max(thumbnail.size) == THUMBNAIL_SIDE
    assert thumbnail.size == (320, 213)  # the photo's proportions
    assert not thumbnail.getexif()  # no location, no camera data in the preview
    assert Path(attachment.thumbnail.name).parent == Path(attachment.file.name).parent
    assert attachment.thumbnail.name.startswith(f"cases/{case.pk}/{attachment.token}")


def test_the_case_page_shows_the_thumbnail_and_opens_the_photo(client, world):
    case = file_case(world, photos=[camera_jpeg()])
    attachment = the_attachment(case)
    login(client, world, "gridworker")

    body = client.get(reverse("disputes:detail", args=[case.pk])).content.decode()

    full = reverse("disputes:attachment", args=[case.pk, attachment.pk])
    small = reverse("disputes:attachment_thumbnail", args=[case.pk, attachment.pk])
    assert f'<a href="{full}" target="_blank"><img src="{small}"' in body
    assert f'src="{full}"' not in body  # the whole photo only when opened
    response = client.get(small)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    with attachment.thumbnail.open("rb") as handle:
        assert b"".join(response.streaming_content) == handle.read()


def test_the_thumbnail_is_for_those_who_may_see_the_case(client, world):
    case = file_case(world, photos=[camera_jpeg()])
    small = reverse("disputes:attachment_thumbnail", args=[case.pk, the_attachment(case).pk])

    assert client.get(small).status_code == 302  # to the login page
    login(client, world, "gridworker2")
    assert client.get(small).status_code == 404


def test_the_thumbnail_costs_a_fixed_number_of_queries(
    client, world, django_assert_max_num_queries
):
    case = file_case(world, photos=[camera_jpeg(), camera_jpeg("b.jpg")])
    login(client, world, "gridworker")
    small = reverse("disputes:attachment_thumbnail", args=[case.pk, the_attachment_pk(case)])
    with django_assert_max_num_queries(5):
        assert client.get(small).status_code == 200


def the_attachment_pk(case) -> int:
    return Attachment.objects.filter(case=case).order_by("pk").values_list("pk", flat=True)[0]


def test_the_case_page_costs_the_same_queries_with_one_photo_or_nine(client, world):
    login(client, world, "gridworker")

    def queries(photos):
        case = file_case(world, photos=photos)
        url = reverse("disputes:detail", args=[case.pk])
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    one = queries([camera_jpeg()])
    nine = queries([camera_jpeg(f"{n}.jpg", size=(400, 300)) for n in range(9)])
    assert one == nine


def test_the_api_gives_the_thumbnail_for_photos_and_none_for_pdfs(world):
    case = file_case(world, photos=[camera_jpeg(), pdf()])
    photo, document = Attachment.objects.filter(case=case).order_by("pk")
    client = APIClient()
    client.force_authenticate(world["users"]["gridworker"])

    body = client.get(f"/api/v1/cases/{case.pk}/").json()

    by_id = {a["id"]: a for a in body["attachments"]}
    assert by_id[photo.pk]["thumbnail_url"] == (
        f"http://testserver/cases/{case.pk}/attachments/{photo.pk}/thumbnail/"
    )
    assert by_id[photo.pk]["url"] == f"http://testserver/cases/{case.pk}/attachments/{photo.pk}/"
    assert by_id[document.pk]["thumbnail_url"] is None


# --- what is stored -----------------------------------------------------------------------


def test_it_removes_the_location_from_a_photo_when_the_case_has_none(world):
    case = file_case(world, photos=[camera_jpeg()])

    stored = stored_image(the_attachment(case).file)
    exif = stored.getexif()
    assert GPS not in exif
    assert exif[ExifTags.Base.Make] == "Apple"  # the rest of the camera's record stays
    assert "xmp" not in stored.info


def test_it_keeps_the_location_when_the_worker_attached_where_they_stood(world):
    case = file_case(world, photos=[camera_jpeg()], **HERE)

    attachment = the_attachment(case)
    gps = stored_image(attachment.file).getexif().get_ifd(GPS)
    assert gps[ExifTags.GPS.GPSLatitudeRef] == "N"
    assert gps[ExifTags.GPS.GPSLatitude] == (29.0, 33.0, 22.0)
    assert not stored_image(attachment.thumbnail).getexif()  # never in the preview


def test_a_photo_without_location_or_turn_is_stored_byte_for_byte(world):
    photo = camera_jpeg(gps=False)
    original = photo.getvalue()

    case = file_case(world, photos=[photo])

    attachment = the_attachment(case)
    with attachment.file.open("rb") as handle:
        assert handle.read() == original
    assert attachment.size == len(original)


def test_it_turns_a_photo_upright_by_its_exif_orientation(world):
    # Orientation 6: the camera was held upright, the pixels lie on their side; a viewer
    # turns them 90° clockwise, so the red left half ends up on top.
    case = file_case(world, photos=[camera_jpeg(orientation=6, gps=False)])

    attachment = the_attachment(case)
    stored = stored_image(attachment.file)
    assert stored.size == (800, 1200)
    assert stored.getexif().get(ORIENTATION, 1) == 1
    top, bottom = stored.getpixel((400, 100)), stored.getpixel((400, 1100))
    assert top[0] > 150 and top[2] < 100  # red
    assert bottom[2] > 150 and bottom[0] < 100  # blue
    thumbnail = stored_image(attachment.thumbnail)
    assert thumbnail.size == (213, 320)
    assert thumbnail.getpixel((100, 20))[0] > 150
    assert attachment.size == len(attachment.file.open("rb").read())


def test_a_turned_photo_is_scaled_down_like_the_browser_does(world):
    case = file_case(world, photos=[camera_jpeg(orientation=6, size=(4000, 3000))])

    stored = stored_image(the_attachment(case).file)
    assert stored.size == (STORED_SIDE * 3 // 4, STORED_SIDE)


def test_it_accepts_an_iphone_heic_photo_and_stores_it_as_jpeg(world):
    case = file_case(world, photos=[iphone_heic()])

    attachment = the_attachment(case)
    assert (attachment.content_type, attachment.extension) == ("image/jpeg", ".jpg")
    assert attachment.original_name == "IMG_0002.jpg"
    assert attachment.file.name.endswith(".jpg")
    stored = stored_image(attachment.file)
    assert stored.format == "JPEG" and stored.size == (800, 600)
    assert GPS not in stored.getexif()
    assert attachment.size == len(attachment.file.open("rb").read())
    assert stored_image(attachment.thumbnail).size == (320, 240)


def test_a_heic_photo_keeps_its_location_when_the_case_has_one(world):
    case = file_case(world, photos=[iphone_heic()], **HERE)

    assert GPS in stored_image(the_attachment(case).file).getexif()


def test_a_heic_photo_is_accepted_through_the_filing_page(client, world):
    login(client, world, "gridworker")

    response = client.post(reverse("disputes:file"), filing_post(world, photos=[iphone_heic()]))

    assert response.status_code == 302, response.content.decode()[:2000]
    attachment = Attachment.objects.get()
    assert attachment.content_type == "image/jpeg"
    assert stored_image(attachment.thumbnail).format == "JPEG"


def test_a_pdf_is_stored_untouched_and_has_no_thumbnail(client, world):
    document = pdf()
    case = file_case(world, photos=[document])

    attachment = the_attachment(case)
    with attachment.file.open("rb") as handle:
        assert handle.read() == document.getvalue()
    assert (attachment.kind, attachment.content_type) == ("pdf", "application/pdf")
    assert not attachment.thumbnail
    login(client, world, "gridworker")
    small = reverse("disputes:attachment_thumbnail", args=[case.pk, attachment.pk])
    assert client.get(small).status_code == 404


def test_photos_added_later_keep_the_location_of_a_case_that_has_one(world):
    case = file_case(world, **HERE)

    services.case_attach(case=case, actor=world["users"]["gridworker"], files=[camera_jpeg()])

    attachment = the_attachment(case)
    assert attachment.event.kind == CaseEvent.Kind.ATTACHMENT
    assert GPS in stored_image(attachment.file).getexif()
    assert attachment.thumbnail


# --- damaged photos -----------------------------------------------------------------------


def damaged_jpeg(name="现场.jpg"):
    whole = camera_jpeg(gps=False).getvalue()
    return upload(whole[: len(whole) // 2], name)


def damaged_heic(name="IMG_0003.HEIC"):
    whole = iphone_heic().getvalue()
    return upload(whole[: len(whole) // 2], name)


@pytest.mark.parametrize("damaged", [damaged_jpeg, damaged_heic], ids=["jpeg", "heic"])
def test_a_damaged_photo_is_refused_with_a_clear_error_and_nothing_is_saved(world, damaged):
    before = (Case.objects.count(), Attachment.objects.count(), media_files())
    photo = damaged()

    with pytest.raises(ValidationError) as exc:
        file_case(world, photos=[camera_jpeg(), photo])

    assert exc.value.message_dict == {
        "photos": [f"“{photo.name}”无法作为照片读取：文件已损坏或不完整。"]
    }
    assert (Case.objects.count(), Attachment.objects.count(), media_files()) == before


def test_a_picture_too_large_for_a_camera_is_refused_before_it_is_decoded(world):
    buffer = io.BytesIO()
    Image.new("1", (8100, 8100)).save(buffer, "PNG")  # 65.6 megapixels in a few kB

    with pytest.raises(ValidationError) as exc:
        file_case(world, photos=[upload(buffer.getvalue(), "scan.png")])

    assert exc.value.message_dict == {"photos": ["“scan.png”像素过多，不是相机拍摄的照片。"]}
    assert not Case.objects.exists()


def test_the_filing_page_says_which_photo_is_damaged(client, world):
    login(client, world, "gridworker")

    response = client.post(reverse("disputes:file"), filing_post(world, photos=[damaged_jpeg()]))

    assert response.status_code == 200
    assert "“现场.jpg”无法作为照片读取：文件已损坏或不完整。" in response.content.decode()
    assert not Case.objects.exists()
    assert not [name for name in media_files() if not name.startswith("stash")]


def test_the_api_refuses_a_damaged_photo_with_a_field_error(world):
    client = APIClient()
    client.force_authenticate(world["users"]["gridworker"])
    data = {
        "area": world["micro"].pk,
        "category": world["wages"].pk,
        "cause": "拖欠工资",
        "address": "民生路88号",
        "channel": "grid_worker",
        "parties": '[{"side": "applicant", "name": "陈建国", "phone": "13912345678"}]',
        "photos": [damaged_jpeg()],
    }

    response = client.post("/api/v1/cases/", data, format="multipart")

    assert response.status_code == 400, response.content
    assert "无法作为照片读取" in response.json()["errors"]["photos"][0]
    assert not Case.objects.exists()


# --- photos stored before thumbnails --------------------------------------------------------


def without_thumbnail(case) -> Attachment:
    attachment = the_attachment(case)
    attachment.thumbnail.delete(save=False)
    Attachment.objects.filter(pk=attachment.pk).update(thumbnail="")
    attachment.refresh_from_db()
    return attachment


def test_a_photo_without_a_thumbnail_is_shown_itself(client, world):
    case = file_case(world, photos=[camera_jpeg()])
    attachment = without_thumbnail(case)
    login(client, world, "gridworker")

    body = client.get(reverse("disputes:detail", args=[case.pk])).content.decode()

    full = reverse("disputes:attachment", args=[case.pk, attachment.pk])
    assert f'<a href="{full}" target="_blank"><img src="{full}"' in body
    small = reverse("disputes:attachment_thumbnail", args=[case.pk, attachment.pk])
    response = client.get(small)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"


def test_make_thumbnails_fills_in_the_missing_ones_with_progress(world):
    cases = [file_case(world, photos=[camera_jpeg()]) for _ in range(3)]
    missing = [without_thumbnail(case) for case in cases[:2]]
    already = the_attachment(cases[2]).thumbnail.name
    out, err = io.StringIO(), io.StringIO()

    call_command("make_thumbnails", every=1, stdout=out, stderr=err)

    output = out.getvalue()
    assert "2 photos without a thumbnail" in output
    assert "1/2 (50%)" in output and "2/2 (100%)" in output
    assert "2 thumbnails made" in output
    assert err.getvalue() == ""
    for attachment in missing:
        attachment.refresh_from_db()
        assert max(stored_image(attachment.thumbnail).size) == THUMBNAIL_SIDE
    assert the_attachment(cases[2]).thumbnail.name == already

    again = io.StringIO()
    call_command("make_thumbnails", stdout=again)
    assert "0 photos without a thumbnail" in again.getvalue()


def test_make_thumbnails_reports_an_unreadable_photo_and_goes_on(world):
    broken, fine = (file_case(world, photos=[camera_jpeg()]) for _ in range(2))
    broken_one, fine_one = without_thumbnail(broken), without_thumbnail(fine)
    with broken_one.file.open("wb") as handle:
        handle.write(b"no longer a photo")
    out, err = io.StringIO(), io.StringIO()

    call_command("make_thumbnails", stdout=out, stderr=err)

    assert f"attachment {broken_one.pk}" in err.getvalue()
    assert "1 thumbnails made" in out.getvalue() and "1 photos unreadable" in out.getvalue()
    fine_one.refresh_from_db()
    assert fine_one.thumbnail

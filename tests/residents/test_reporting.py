"""The public report form: a resident scans a QR code and files a case without logging in.
Abuse (rate limits, a honeypot, bad photos) is refused with a clear message and nothing
saved; a repeat from the same phone within a day is added to the open case."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from disputes.models import Attachment, Case, CaseEvent, CaseStatus, Channel, PartySide
from notifications.models import Notification
from residents import services, views
from residents.models import ResidentReport, ResidentSupplement
from tests.residents.conftest import PHONE, T0, handle_to_close, pdf, png, report

pytestmark = pytest.mark.django_db


def url(area) -> str:
    return reverse("resident_public:report", args=[area.code])


def form(**overrides) -> dict:
    data = {
        "topic": "noise",
        "text": "楼上每天夜里十二点后还在装修，敲打声很大",
        "address": "民生路12号3单元502",
        "name": "王阿姨",
        "phone": "139 1234 5678",
        "website": "",
    }
    return data | overrides


def nothing_saved():
    return (
        Case.objects.count(),
        ResidentReport.objects.count(),
        Attachment.objects.count(),
        CaseEvent.objects.count(),
    ) == (0, 0, 0, 0)


# --- the form ---------------------------------------------------------------------------------


def test_it_shows_the_form_for_a_grid_without_login(client, world, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        response = client.get(url(world.grid))
    assert response.status_code == 200
    body = response.content.decode()
    assert "民生路社区第1网格" in body
    assert "渝中区 / 解放碑街道 / 民生路社区" in body  # where the code hangs
    assert 'name="website"' in body  # the honeypot is there, hidden by CSS
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("code", ["500103001001", "500103001001G01M01", "500103001001D1"])
def test_it_takes_reports_for_communities_micro_grids_and_dedicated_grids(client, world, code):
    assert client.get(reverse("resident_public:report", args=[code])).status_code == 200


@pytest.mark.parametrize("code", ["500103", "500103001", "NOPE"])
def test_it_has_no_form_for_a_district_a_street_or_an_unknown_code(client, world, code):
    assert client.get(reverse("resident_public:report", args=[code])).status_code == 404


def test_it_files_a_case_in_the_normal_flow_and_gives_a_tracking_code(client, world):
    response = client.post(url(world.grid), form(photos=[png("楼道.png")]))
    assert response.status_code == 302
    assert response["Location"] == reverse("resident_public:done")

    filed = ResidentReport.objects.select_related("case").get()
    case = filed.case
    assert case.channel == Channel.RESIDENT_QR
    assert case.filed_by is None
    assert case.status == CaseStatus.FILED
    assert case.area == world.grid and case.street == world.street
    assert case.category.code == "0202"  # 噪音扰民
    assert case.number.startswith("JF2026-")
    assert case.assign_due_at == T0 + timedelta(hours=24)  # the SLA clock runs as usual
    assert case.close_due_at == T0 + timedelta(days=30)
    assert case.description.startswith("楼上每天夜里")
    assert list(case.parties.values_list("side", "name", "phone")) == [
        (PartySide.APPLICANT, "王阿姨", PHONE)
    ]
    assert filed.phone == PHONE and filed.name == "王阿姨"
    photo = case.attachments.get()
    assert photo.content_type == "image/png" and photo.uploaded_by is None
    event = case.events.get()
    assert (event.kind, event.actor, event.data["public"]) == (CaseEvent.Kind.FILED, None, True)

    done = client.get(response["Location"])
    assert done.status_code == 200
    assert filed.display_code in done.content.decode()
    tracking_link = reverse("resident_public:case", args=[filed.tracking_code])
    assert tracking_link in done.content.decode()
    # The browser that filed it may open the tracking page straight away.
    assert client.get(tracking_link).status_code == 200


def test_it_tells_the_people_who_run_the_queue(world):
    case = report(world).case
    recipients = set(
        Notification.objects.filter(case=case).values_list("recipient__username", flat=True)
    )
    assert recipients == {"gridworker"}  # 楼道堆物 stays in the grid: its worker runs it


def test_tracking_codes_are_random_readable_and_unique(world):
    codes = {services.new_tracking_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 10 and set(c) <= set(services.CODE_ALPHABET) for c in codes)


@pytest.mark.parametrize(
    ("topic", "code"),
    [("neighbours", "0201"), ("property", "1402"), ("wages", "1001"), ("family", "0101"),
     ("noise", "0202"), ("other", "1599")],
)  # fmt: skip
def test_each_plain_topic_files_under_a_dispute_type(world, topic, code):
    assert services.topic_category(topic).code == code


def test_a_topic_whose_type_is_switched_off_falls_back_to_its_first_level(world):
    from disputes.models import Category

    Category.objects.filter(code__in=["0202", "0901"]).update(is_active=False)
    assert services.topic_category("noise").code == "0201"


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"topic": ""}, "topic"),
        ({"topic": "aliens"}, "topic"),
        ({"text": "吵"}, "text"),
        ({"text": "很" * 2001}, "text"),
        ({"address": "  "}, "address"),
        ({"name": ""}, "name"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "02363001234"}, "phone"),
        ({"phone": "1391234567x"}, "phone"),
    ],
)
def test_it_refuses_bad_input_with_field_messages_and_saves_nothing(
    client, world, overrides, field
):
    response = client.post(url(world.grid), form(**overrides))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert nothing_saved()


def test_it_refuses_a_pdf_a_fake_photo_and_too_many_photos(client, world, settings):
    response = client.post(url(world.grid), form(photos=[pdf()]))
    assert "不是照片" in response.context["form"].errors["photos"][0]
    fake = SimpleUploadedFile("virus.png", b"MZ\x90\x00 not an image", content_type="image/png")
    response = client.post(url(world.grid), form(photos=[fake]))
    assert response.context["form"].errors["photos"]
    response = client.post(url(world.grid), form(photos=[png(f"{n}.png") for n in range(4)]))
    assert "最多上传 3 张" in response.context["form"].errors["photos"][0]
    assert nothing_saved()


def test_it_refuses_a_photo_over_10_mb(client, world, monkeypatch):
    monkeypatch.setattr("disputes.attachments.MAX_ATTACHMENT_BYTES", 100)
    response = client.post(url(world.grid), form(photos=[png(size=(64, 64))]))
    assert "10 MB" in response.context["form"].errors["photos"][0]
    assert nothing_saved()


def test_the_service_validates_on_its_own(world):
    with pytest.raises(ValidationError) as caught:
        services.report_submit(area=world.street, topic="x", text="", address="", name="",
                               phone="1", photos=[pdf()])  # fmt: skip
    assert set(caught.value.message_dict) == {
        "area", "topic", "text", "address", "name", "phone", "photos"
    }  # fmt: skip
    assert nothing_saved()


# --- abuse ------------------------------------------------------------------------------------


def test_the_honeypot_refuses_a_bot_with_a_clear_message_and_saves_nothing(client, world):
    response = client.post(url(world.grid), form(website="http://spam.example", photos=[png()]))
    assert response.status_code == 400
    assert str(views.REFUSED) in response.content.decode()
    assert nothing_saved()


def test_the_rate_limit_per_network_refuses_with_a_clear_message_and_saves_nothing(
    client, world, settings
):
    settings.RESIDENT_RATE_LIMITS = {"report_ip": (2, 3600)}
    for n in range(2):  # different phones and areas: no merging, two new cases
        phone = f"1391234567{n}"
        assert client.post(url(world.grid), form(phone=phone)).status_code == 302
    response = client.post(url(world.micro), form(phone="13800001111", photos=[png()]))
    assert response.status_code == 429
    assert str(views.TOO_MANY_FROM_NETWORK) in response.content.decode()
    assert Case.objects.count() == 2
    assert Attachment.objects.count() == 0
    # The form keeps what was typed, so the resident can try again later.
    assert response.context["form"]["text"].value().startswith("楼上每天")
    # Another network is not affected.
    other = client.post(url(world.micro), form(phone="13800001111"), REMOTE_ADDR="10.9.9.9")
    assert other.status_code == 302


def test_the_rate_limit_per_phone_refuses_with_a_clear_message_and_saves_nothing(
    client, world, settings
):
    settings.RESIDENT_RATE_LIMITS = {"report_phone": (1, 86400)}
    assert client.post(url(world.grid), form()).status_code == 302
    response = client.post(url(world.other_grid), form(), REMOTE_ADDR="10.1.1.1")
    assert response.status_code == 429
    assert str(views.TOO_MANY_FROM_PHONE) in response.content.decode()
    assert Case.objects.count() == 1 and ResidentSupplement.objects.count() == 0


def test_the_limits_reset_when_the_window_passes(client, world, settings):
    settings.RESIDENT_RATE_LIMITS = {"report_ip": (1, 3600)}
    assert client.post(url(world.grid), form(phone="13900000001")).status_code == 302
    assert client.post(url(world.grid), form(phone="13900000002")).status_code == 429
    world.at(T0 + timedelta(hours=1, minutes=1))
    assert client.post(url(world.grid), form(phone="13900000002")).status_code == 302


def test_it_trusts_forwarded_addresses_only_behind_a_configured_proxy(rf, settings):
    from residents.ratelimit import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="1.1.1.1, 2.2.2.2", REMOTE_ADDR="10.0.0.5")
    assert client_ip(request) == "10.0.0.5"
    settings.RESIDENT_TRUSTED_PROXIES = 1
    assert client_ip(request) == "2.2.2.2"


def test_it_follows_the_proxy_count_the_logins_use(rf, settings):
    from residents.ratelimit import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="1.1.1.1, 2.2.2.2", REMOTE_ADDR="10.0.0.5")
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "1.1.1.1"


# --- a second report from the same phone (see also test_takeover.py) -----------------------------


@pytest.mark.parametrize("why", ["after_a_day", "other_area", "other_phone", "first_closed"])
def test_other_repeats_open_a_new_case(world, why):
    first = report(world)
    area, phone = world.grid, PHONE
    if why == "after_a_day":
        world.at(T0 + timedelta(hours=24, minutes=1))
    elif why == "other_area":
        area = world.micro
    elif why == "other_phone":
        phone = "13700000001"
    else:
        handle_to_close(world, first.case, closed_at=T0 + timedelta(hours=3))
    second = report(world, area, phone=phone)
    assert second.case_id != first.case_id
    assert Case.objects.count() == 2
    assert second.duplicate_of is None  # only a same-day repeat at the same place is hinted


def test_refused_attempts_count_toward_the_network_limit(client, world, settings):
    settings.RESIDENT_RATE_LIMITS = {"report_ip": (2, 3600)}
    bad = form(phone="123")  # not a phone number: refused with a form error
    assert client.post(url(world.grid), bad).status_code == 200
    assert client.post(url(world.grid), bad).status_code == 200
    # The third attempt, valid or not, is over the limit: nothing is read or saved.
    assert client.post(url(world.grid), form(phone="13900000001")).status_code == 429
    assert not ResidentReport.objects.exists()

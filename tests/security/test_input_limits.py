"""How much one request may carry: field lengths, parties and files per filing, the body
size of a request (413 before it is read, JSON on the API), and photos parked by a failed
filing, which expire. Each refusal says why and saves nothing."""

import os
import time
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from rest_framework.test import APIClient

from common.limits import FILES_MAX, PARTIES_MAX, TEXT_MAX
from disputes import upload_stash
from disputes.models import Case
from tests.disputes.test_pages import filing_post, login, png_bytes
from tests.disputes.test_pages import world as world

pytestmark = pytest.mark.django_db


def api_for(world, username="gridworker") -> APIClient:
    api = APIClient()
    api.force_authenticate(world["users"][username])
    return api


def filing_json(world, **overrides):
    return {
        "area": world["micro"].pk, "category": world["wages"].pk, "cause": "工地拖欠工资",
        "address": "民生路88号", "channel": "grid_worker",
        "parties": [{"side": "applicant", "name": "陈建国"}],
    } | overrides  # fmt: skip


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"description": "很" * (TEXT_MAX + 1)}, "description"),
        ({"parties": [{"name": f"当事人{n}"} for n in range(PARTIES_MAX + 1)]}, "parties"),
        ({"parties": [{"name": "陈" * 101}]}, "parties"),
        ({"address": "路" * 201}, "address"),
    ],
)
def test_an_oversized_filing_is_refused_on_the_api_with_the_field(world, overrides, field):
    response = api_for(world).post("/api/v1/cases/", filing_json(world, **overrides), format="json")

    assert response.status_code == 400
    assert any(key.startswith(field) for key in response.json()["errors"])
    assert not Case.objects.exists()


def test_the_service_refuses_a_long_party_field_instead_of_cutting_it(world):
    from disputes import services

    with pytest.raises(Exception) as refused:
        services.case_file(
            actor=world["users"]["gridworker"], area=world["micro"], category=world["wages"],
            cause="拖欠工资", address="民生路88号", channel="grid_worker",
            parties=[{"side": "applicant", "name": "陈" * 101}],
        )  # fmt: skip
    assert "100" in str(refused.value)
    assert not Case.objects.exists()


def test_too_many_files_at_once_are_refused(world):
    photos = [png_bytes(f"{n}.png") for n in range(FILES_MAX + 1)]
    response = api_for(world).post(
        "/api/v1/cases/", filing_json(world, parties='[{"name": "陈建国"}]', photos=photos),
        format="multipart",
    )  # fmt: skip
    assert response.status_code == 400 and "photos" in response.json()["errors"]
    assert not Case.objects.exists()


def test_an_oversized_description_is_a_form_error_on_the_page(client, world):
    login(client, world, "gridworker")
    page = client.post(reverse("disputes:file"), filing_post(world, description="很" * 5001))

    assert page.status_code == 200 and page.context["form"].errors["description"]
    assert not Case.objects.exists()


def test_an_oversized_api_body_is_refused_as_json_before_it_is_read(world):
    body = b'{"cause": "' + b"x" * (13 * 1024 * 1024) + b'"}'
    response = api_for(world).generic("POST", "/api/v1/cases/", body, "application/json")

    assert response.status_code == 413
    assert set(response.json()) == {"detail", "errors"} and "过大" in response.json()["detail"]


def test_the_public_form_refuses_a_body_over_its_limit_before_reading_it(client, settings):
    declared = settings.PUBLIC_REQUEST_MAX_BYTES + 1
    response = client.generic(
        "POST", "/r/G-anything/", b"--x--", "multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(declared),
    )  # fmt: skip
    assert response.status_code == 413
    assert "过大" in response.content.decode()


def test_parked_photos_expire_even_if_their_session_never_returns(client, world):
    login(client, world, "gridworker")
    first = client.post(
        reverse("disputes:file"), filing_post(world, cause="", photos=[png_bytes()])
    )
    (kept,) = first.context["kept_photos"]
    _dirs, names = default_storage.listdir("stash")
    assert names == [kept["token"]]

    assert upload_stash.purge() == 0  # fresh
    old = time.time() - upload_stash.MAX_AGE_SECONDS - 60
    os.utime(default_storage.path(f"stash/{names[0]}"), (old, old))
    assert upload_stash.purge() == 1
    assert default_storage.listdir("stash")[1] == []


def test_a_session_parks_at_most_one_filing_worth_of_photos(client, world):
    login(client, world, "gridworker")
    for round_ in range(3):  # three forms abandoned, five photos each
        photos = [png_bytes(f"{round_}-{n}.png") for n in range(5)]
        client.post(reverse("disputes:file"), filing_post(world, cause="", photos=photos))
    assert len(default_storage.listdir("stash")[1]) == FILES_MAX


def test_the_photos_the_form_still_shows_are_never_dropped(client, world):
    login(client, world, "gridworker")
    first = client.post(
        reverse("disputes:file"),
        filing_post(world, cause="", photos=[png_bytes(f"a{n}.png") for n in range(6)]),
    )
    tokens = [k["token"] for k in first.context["kept_photos"]]
    # The same form again, still with an error, and six more photos: twelve on screen.
    second = client.post(
        reverse("disputes:file"),
        filing_post(
            world, cause="", kept_photos=tokens,
            photos=[png_bytes(f"b{n}.png") for n in range(6)],
        ),
    )  # fmt: skip

    shown = [k["name"] for k in second.context["kept_photos"]]
    assert len(shown) == 12 and {f"a{n}.png" for n in range(6)} <= set(shown)
    assert len(default_storage.listdir("stash")[1]) == 12


def test_the_purge_runs_hourly_from_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["purge-upload-stash"]
    assert entry["task"] == "disputes.tasks.purge_upload_stash"
    assert entry["schedule"] <= timedelta(hours=1).total_seconds()


def every_text_field():
    """(form, field name, field) for every text field of every form a person fills in."""
    import inspect

    from django import forms

    from disputes import forms as dispute_forms
    from reception_days import forms as reception_forms
    from residents import forms as resident_forms

    for module in (dispute_forms, reception_forms, resident_forms):
        for name, form in inspect.getmembers(module, inspect.isclass):
            if issubclass(form, forms.BaseForm) and form.__module__ == module.__name__:
                for field_name, field in form.base_fields.items():
                    if type(field) is forms.CharField:
                        yield f"{module.__name__}.{name}.{field_name}", field


def test_every_text_field_a_person_fills_in_has_a_length_limit():
    unlimited = [name for name, field in every_text_field() if not field.max_length]
    too_long = [name for name, field in every_text_field() if (field.max_length or 0) > TEXT_MAX]
    assert unlimited == [] and too_long == []

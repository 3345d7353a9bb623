"""Filing once: a retry or a double tap under one key files one case (API and page), other
content under a used key is refused, and a case is never saved without its photos."""

import json

import pytest
from django.core.files.storage import FileSystemStorage
from django.urls import reverse

from disputes.models import Attachment, Case, CaseNumberSequence, FilingKey, Party
from tests.disputes.test_api import client_for, filing, png, seeded  # noqa: F401
from tests.disputes.test_pages import filing_post, png_bytes

pytestmark = pytest.mark.django_db
KEY = "3f1c9a4e-filing-0001"


@pytest.fixture
def w(seeded, db):  # noqa: F811 - the demo world of test_api, seeded once per module
    return seeded


def post(w, user=None, key=KEY, **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    client = client_for(user or w.gridworker)
    return client.post("/api/v1/cases/", filing(w, **extra), format="json", **headers)


def test_the_same_key_and_content_answers_the_first_case(w):
    first = post(w)
    again = post(w)

    assert first.status_code == 201, first.content
    assert again.status_code == 200, again.content
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["number"] == first.json()["number"]
    assert Case.objects.count() == 1
    assert Party.objects.count() == 2  # nothing of the retry saved
    assert FilingKey.objects.get().case_id == first.json()["id"]


def test_a_used_key_with_other_content_is_a_conflict_and_saves_nothing(w):
    first = post(w)
    other = post(w, cause="另一起纠纷")

    assert other.status_code == 409, other.content
    assert first.json()["number"] in other.json()["detail"]
    assert Case.objects.count() == 1


def test_keys_belong_to_their_user_and_no_key_files_every_time(w):
    assert post(w).status_code == 201
    assert post(w, user=w.secretary).status_code == 201  # the same key, another person
    assert post(w, key=None).status_code == 201
    assert post(w, key=None).status_code == 201
    assert Case.objects.count() == 4


@pytest.mark.parametrize("bad_key", ["x" * 65, "bad\x07key"])
def test_a_malformed_key_is_refused_with_a_field_error(w, bad_key):
    response = post(w, key=bad_key)

    assert response.status_code == 400, response.content
    assert "idempotency_key" in response.json()["errors"]
    assert not Case.objects.exists()


def test_a_retried_multipart_filing_with_photos_keeps_one_case_and_its_photos(w):
    def send():
        data = filing(w, photos=[png("现场.png")])
        data["parties"] = json.dumps(data["parties"], ensure_ascii=False)
        client = client_for(w.gridworker)
        return client.post("/api/v1/cases/", data, format="multipart", HTTP_IDEMPOTENCY_KEY=KEY)

    assert send().status_code == 201
    assert send().status_code == 200
    assert Case.objects.count() == 1
    assert Attachment.objects.count() == 1


def test_a_photo_that_cannot_be_stored_leaves_no_case_behind(w, monkeypatch):
    """The disk fills up on the second photo: the case, its parties, its event and the
    first photo's row all roll back together, and the number is not used up."""
    real_save = FileSystemStorage.save
    calls = []

    def save(self, name, content, max_length=None):
        calls.append(name)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_save(self, name, content, max_length=max_length)

    monkeypatch.setattr(FileSystemStorage, "save", save)
    data = filing(w, photos=[png("一.png"), png("二.png")])
    data["parties"] = json.dumps(data["parties"], ensure_ascii=False)
    client = client_for(w.gridworker)
    client.raise_request_exception = False

    response = client.post("/api/v1/cases/", data, format="multipart", HTTP_IDEMPOTENCY_KEY=KEY)

    assert response.status_code == 500
    assert len(calls) == 2
    assert not Case.objects.exists()
    assert not Attachment.objects.exists()
    assert not Party.objects.exists()
    assert not FilingKey.objects.exists()
    assert not CaseNumberSequence.objects.filter(last__gt=0).exists()
    monkeypatch.setattr(FileSystemStorage, "save", real_save)
    retry = client.post("/api/v1/cases/", data | {"photos": [png("一.png"), png("二.png")]},
                        format="multipart", HTTP_IDEMPOTENCY_KEY=KEY)  # fmt: skip
    assert retry.status_code == 201, retry.content
    assert Case.objects.get().attachments.count() == 2


# --- the page ---------------------------------------------------------------------------


@pytest.fixture
def signed_in(client, w):
    client.force_login(w.gridworker)
    return client


def page_post(w, **extra):
    world = {"micro": w.grid, "wages": w.categories["0203"]}
    return filing_post(world, **extra)


def test_the_blank_form_carries_a_fresh_key(signed_in):
    first = signed_in.get(reverse("disputes:file")).context["form"]["filing_key"].value()
    second = signed_in.get(reverse("disputes:file")).context["form"]["filing_key"].value()
    assert len(first) == 32 and first != second


def test_a_double_tap_on_the_page_files_one_case(signed_in, w):
    data = page_post(w, filing_key=KEY)
    first = signed_in.post(reverse("disputes:file"), data | {"photos": [png_bytes()]})
    again = signed_in.post(reverse("disputes:file"), data | {"photos": [png_bytes()]}, follow=True)

    case = Case.objects.get()
    assert first.status_code == 302
    assert again.redirect_chain[-1][0] == reverse("disputes:detail", args=[case.pk])
    assert "已登记过" in again.content.decode()
    assert case.attachments.count() == 1


def test_a_filed_form_sent_again_with_other_content_says_so_and_gets_a_new_key(signed_in, w):
    signed_in.post(reverse("disputes:file"), page_post(w, filing_key=KEY))
    response = signed_in.post(
        reverse("disputes:file"), page_post(w, filing_key=KEY, cause="另一起")
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert Case.objects.get().number in " ".join(form.non_field_errors())
    assert form["filing_key"].value() != KEY
    resent = signed_in.post(
        reverse("disputes:file"),
        page_post(w, filing_key=form["filing_key"].value(), cause="另一起"),
    )
    assert resent.status_code == 302
    assert Case.objects.count() == 2


def test_the_page_sent_by_script_answers_where_to_go(signed_in, w):
    response = signed_in.post(
        reverse("disputes:file"),
        page_post(w, filing_key=KEY),
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    case = Case.objects.get()
    assert response.status_code == 204
    assert response["X-Filed-Location"] == reverse("disputes:detail", args=[case.pk])
    # The message waits for the page the script opens next.
    assert "已登记" in signed_in.get(response["X-Filed-Location"]).content.decode()

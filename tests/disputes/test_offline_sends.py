"""What the phone's offline queue relies on: a progress note sent again with its client key
is recorded once (page, API, and two copies at once), a queued filing is answered with where
it went and its number and leaves no message for a later page, and a queued note learns it
was taken."""

import pytest
from django.urls import reverse

from disputes import services
from disputes.models import Case, CaseEvent
from tests.disputes.test_api import client_for, file_case, png, seeded  # noqa: F401
from tests.disputes.test_filing_once import KEY, page_post, signed_in  # noqa: F401

pytestmark = pytest.mark.django_db
K = CaseEvent.Kind
NOTE_KEY = "6b0c2f4d9e8a4f1b8c3d2e1f0a9b8c7d"


@pytest.fixture
def w(seeded, db):  # noqa: F811
    return seeded


@pytest.fixture
def assigned(w):
    case = file_case(w)
    services.case_accept(case=case, actor=w.secretary)
    return services.case_assign(case=case, mediator=w.mediator, actor=w.secretary)


def notes(case):
    return list(CaseEvent.objects.filter(case=case, kind=K.PROGRESS).values_list("note", flat=True))


def test_a_note_sent_twice_with_its_key_is_recorded_once_with_its_photos(w, assigned):
    for _ in range(2):
        services.case_progress(
            case=assigned, actor=w.mediator, note="上门了解", photos=[png()], client_key=NOTE_KEY
        )

    assert notes(assigned) == ["上门了解"]
    assert assigned.attachments.count() == 1


def test_notes_without_a_key_or_with_other_keys_are_each_recorded(w, assigned):
    services.case_progress(case=assigned, actor=w.mediator, note="一")
    services.case_progress(case=assigned, actor=w.mediator, note="二")
    services.case_progress(case=assigned, actor=w.mediator, note="三", client_key="a" * 32)
    services.case_progress(case=assigned, actor=w.mediator, note="四", client_key="b" * 32)

    assert notes(assigned) == ["一", "二", "三", "四"]


def test_a_key_is_the_actors_own(w, assigned):
    services.case_progress(case=assigned, actor=w.mediator, note="调解员", client_key=NOTE_KEY)
    services.case_progress(case=assigned, actor=w.secretary, note="书记", client_key=NOTE_KEY)

    assert notes(assigned) == ["调解员", "书记"]


def test_a_resent_note_is_not_refused_after_the_case_moved_on(w, assigned):
    """The first copy was taken and the case has since been resolved: the copy from the
    queue is answered as done, not as a conflict the worker would have to clear."""
    services.case_progress(case=assigned, actor=w.mediator, note="上门", client_key=NOTE_KEY)
    services.case_record_outcome(case=assigned, actor=w.mediator, outcome="agreement")
    services.case_resolve(case=assigned, actor=w.mediator, note="已履行")

    services.case_progress(case=assigned, actor=w.mediator, note="上门", client_key=NOTE_KEY)

    assert notes(assigned) == ["上门"]


def test_the_api_takes_the_key_and_answers_the_copy_alike(w, assigned):
    client = client_for(w.mediator)
    url = f"/api/v1/cases/{assigned.pk}/progress/"
    first = client.post(url, {"note": "电话联系", "client_key": NOTE_KEY}, format="json")
    again = client.post(url, {"note": "电话联系", "client_key": NOTE_KEY}, format="json")

    assert first.status_code == again.status_code == 200, (first.content, again.content)
    assert notes(assigned) == ["电话联系"]
    too_long = client.post(url, {"note": "x", "client_key": "k" * 65}, format="json")
    assert too_long.status_code == 400
    assert "client_key" in too_long.json()["errors"]
    assert notes(assigned) == ["电话联系"]


def test_the_page_tells_a_queued_note_it_was_taken(client, w, assigned):
    client.force_login(w.mediator)
    url = reverse("disputes:action", args=[assigned.pk, "progress"])
    data = {"progress-note": "现场查看", "progress-client_key": NOTE_KEY}

    first = client.post(url, data, HTTP_HX_REQUEST="true", HTTP_X_OFFLINE_QUEUE="1")
    again = client.post(url, data, HTTP_HX_REQUEST="true", HTTP_X_OFFLINE_QUEUE="1")
    refused = client.post(url, {"progress-note": ""}, HTTP_HX_REQUEST="true")

    assert first["X-Action-Done"] == again["X-Action-Done"] == "progress"
    assert "X-Action-Done" not in refused
    assert notes(assigned) == ["现场查看"]


def test_the_progress_form_carries_a_fresh_key(client, w, assigned):
    client.force_login(w.mediator)
    page = client.get(reverse("disputes:detail", args=[assigned.pk])).content.decode()

    assert 'name="progress-client_key"' in page
    assert 'data-offline-kind="action"' in page and 'data-draft="progress-' in page


def test_a_queued_filing_is_answered_with_its_place_and_number_and_leaves_no_message(
    signed_in,  # noqa: F811
    w,
):
    response = signed_in.post(
        reverse("disputes:file"),
        page_post(w, filing_key=KEY),
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
        HTTP_X_OFFLINE_QUEUE="1",
    )

    case = Case.objects.get()
    assert response.status_code == 204
    assert response["X-Filed-Location"] == reverse("disputes:detail", args=[case.pk])
    assert response["X-Filed-Number"] == case.number
    later = signed_in.get(reverse("disputes:list")).content.decode()
    assert "已登记" not in later

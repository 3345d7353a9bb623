"""Races on PostgreSQL (one connection per thread): two closes of one case at once give one
close and one archive; two deliveries of the build at once build it once."""

import pytest

from casefiles.building import archive_build
from casefiles.models import CaseFileArchive
from disputes.models import CaseEvent
from grids.models import User
from tests.casefiles.helpers import resolved_case
from tests.disputes.test_api import client_for, file_case
from tests.disputes.test_api_concurrency import run_in_threads
from tests.disputes.test_api_concurrency import w as concurrency_world  # noqa: F401

A = CaseFileArchive


@pytest.mark.django_db(transaction=True)
def test_two_closes_at_once_make_one_close_and_one_archive(concurrency_world, celery_eager):  # noqa: F811
    w = concurrency_world
    case = resolved_case(w, file_case, photos=1, pdf_page_counts=())
    people = ["secretary", "street"]

    def run(i):
        user = User.objects.get(username=people[i])
        return client_for(user).post(f"/api/v1/cases/{case.pk}/close/", {}).status_code

    statuses = run_in_threads(2, run)

    assert sorted(statuses) == [200, 409]
    [archive] = A.objects.filter(case=case)
    assert archive.status == "ready"
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.ARCHIVED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_the_build_build_it_once(concurrency_world):  # noqa: F811
    w = concurrency_world
    case = resolved_case(w, file_case, photos=1, pdf_page_counts=())
    # Closed with no worker running: the task waits in the broker, the archive is queued.
    client_for(w.secretary).post(f"/api/v1/cases/{case.pk}/close/", {})
    [archive] = A.objects.filter(case=case)
    assert archive.status == "queued"

    built = run_in_threads(2, lambda i: archive_build(archive_id=archive.pk))

    assert sum(b is not None for b in built) == 1
    archive.refresh_from_db()
    assert archive.status == "ready" and len(archive.sha256) == 64
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.ARCHIVED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_requests_to_archive_again_at_once_one_wins(concurrency_world):  # noqa: F811
    w = concurrency_world
    case = resolved_case(w, file_case, photos=0, pdf_page_counts=())
    client_for(w.secretary).post(f"/api/v1/cases/{case.pk}/close/", {})
    [first] = A.objects.filter(case=case)
    archive_build(archive_id=first.pk)  # what the worker does; no worker runs here
    people = ["secretary", "street"]

    def run(i):
        user = User.objects.get(username=people[i])
        return client_for(user).post("/api/v1/casefiles/", {"case": case.pk}).status_code

    statuses = run_in_threads(2, run)

    # Under the case's lock: the second finds the first's version still waiting for its build.
    assert sorted(statuses) == [202, 409]
    assert sorted(A.objects.filter(case=case).values_list("version", flat=True)) == [1, 2]

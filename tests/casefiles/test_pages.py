"""The file's pages and API: the build's progress polled, the versions listed, each in a
fixed number of queries; the case page's section."""

import pytest

from casefiles import services
from casefiles.models import CaseFileArchive
from tests.casefiles.helpers import close, resolved_case
from tests.disputes.test_api import client_for, file_case, seeded  # noqa: F401

pytestmark = pytest.mark.django_db
A = CaseFileArchive


@pytest.fixture
def w(seeded, db):  # noqa: F811
    return seeded


@pytest.fixture
def closed(w, celery_eager, django_capture_on_commit_callbacks):
    case = resolved_case(w, file_case, photos=1, pdf_page_counts=())
    with django_capture_on_commit_callbacks(execute=True):
        close(w, case)
    return case


def test_the_page_polls_while_the_file_is_built(w, client):
    case = resolved_case(w, file_case, photos=0, pdf_page_counts=())
    close(w, case)  # its task not run yet: the archive waits
    client.force_login(w.mediator)
    html = client.get(f"/casefiles/case/{case.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in html and 'data-status="queued"' in html
    A.objects.filter(case=case).update(status="building", progress=40)
    part = client.get(f"/casefiles/case/{case.pk}/progress/").content.decode()
    assert 'value="40"' in part and "every 1s" in part


def test_a_ready_file_is_offered_for_download_and_print(w, closed, client):
    client.force_login(w.judge)
    html = client.get(f"/cases/{closed.pk}/").content.decode()
    archive = A.objects.get(case=closed)
    assert 'id="casefile-section"' in html and f"/casefiles/{archive.pk}/download/" in html
    page = client.get(f"/casefiles/case/{closed.pk}/").content.decode()
    assert "every 1s" not in page and "?print=1" in page
    assert 'data-testid="archive-again"' not in page  # the judge may not archive
    client.force_login(w.secretary)
    page = client.get(f"/casefiles/case/{closed.pk}/").content.decode()
    assert 'data-testid="archive-again"' in page


def test_an_open_case_shows_no_file_section(w, client):
    case = file_case(w)
    client.force_login(w.mediator)
    assert 'id="casefile-section"' not in client.get(f"/cases/{case.pk}/").content.decode()


def test_pages_hide_what_is_out_of_reach(w, closed, client):
    archive = A.objects.get(case=closed)
    client.force_login(w.gridworker2)
    for url in (f"/casefiles/case/{closed.pk}/", f"/casefiles/case/{closed.pk}/progress/",
                f"/casefiles/{archive.pk}/download/"):  # fmt: skip
        assert client.get(url).status_code == 404
    assert client.post(f"/casefiles/case/{closed.pk}/archive/").status_code == 404
    listed = client_for(w.gridworker2).get("/api/v1/casefiles/").json()["results"]
    assert archive.pk not in {row["id"] for row in listed}


def test_pages_and_apis_take_a_fixed_number_of_queries(
    w, closed, client, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    for _ in range(2):  # more versions cost no more queries
        with django_capture_on_commit_callbacks(execute=True):
            services.archive_again(case=closed, actor=w.secretary)
    archive = A.objects.filter(case=closed).first()
    client.force_login(w.judge)
    api = client_for(w.judge)
    budgets = [
        # session, user, scope (3), the case, the versions (2), the banner (1)
        (client, f"/casefiles/case/{closed.pk}/", 8),
        (client, f"/casefiles/case/{closed.pk}/progress/", 7),
        # … the archive with its case; who may see the numbers (scope, cached)
        (client, f"/casefiles/{archive.pk}/download/", 6),
        (api, "/api/v1/casefiles/", 6),
        (api, f"/api/v1/casefiles/{archive.pk}/", 4),
    ]
    for who, url, budget in budgets:
        with django_assert_max_num_queries(budget):
            assert who.get(url).status_code == 200, url

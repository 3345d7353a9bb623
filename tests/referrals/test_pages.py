"""The referral pages on a phone: recording from the case page, the result and the
extension; each page and list in a fixed number of queries; two results at once (one wins)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from disputes.models import CaseEvent
from grids.models import User
from referrals import services
from referrals.models import Referral
from tests.disputes.test_api import client_for, file_case, seeded  # noqa: F401
from tests.disputes.test_api_concurrency import run_in_threads
from tests.disputes.test_api_concurrency import w as concurrency_world  # noqa: F401

K = CaseEvent.Kind


@pytest.fixture
def w(seeded, db):  # noqa: F811
    return seeded


def record(w, case, **extra):
    data = {"direction": "out", "kind": "court", "partner": "渝中区人民法院"} | extra
    return services.referral_record(case=case, actor=w.mediator, **data)


@pytest.mark.django_db
def test_the_case_page_offers_recording_to_those_who_may(w, client):
    case = file_case(w)
    record(w, case, partner_case_number="(2026)渝0103民诉前调1号")
    client.force_login(w.mediator)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="referrals-section"' in html and "(2026)渝0103民诉前调1号" in html
    assert f"/referrals/case/{case.pk}/new/" in html
    client.force_login(w.judge)  # sees the case, may not record
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="referrals-section"' in html and f"/referrals/case/{case.pk}/new/" not in html


@pytest.mark.django_db
def test_a_referral_is_recorded_and_its_result_saved_through_the_pages(w, client):
    case = file_case(w)
    client.force_login(w.mediator)
    form = {"direction": "out", "kind": "court", "partner": "渝中区人民法院",
            "partner_case_number": "(2026)渝0103民诉前调9号", "entrustment": ""}  # fmt: skip
    response = client.post(f"/referrals/case/{case.pk}/new/", form)
    referral = Referral.objects.get(case=case)
    assert response.status_code == 302 and response.url == f"/referrals/{referral.pk}/"

    bad = client.post(f"/referrals/{referral.pk}/result/", {"result": "nonsense"})
    assert bad.status_code == 400
    ok = client.post(f"/referrals/{referral.pk}/result/", {"result": "agreement", "note": "已调解"})
    assert ok.status_code == 302
    again = client.post(f"/referrals/{referral.pk}/result/", {"result": "failed"})
    assert again.status_code == 409
    referral.refresh_from_db()
    assert referral.result == "agreement"


@pytest.mark.django_db
def test_a_bad_form_saves_nothing_and_says_why(w, client):
    case = file_case(w)
    client.force_login(w.mediator)
    response = client.post(
        f"/referrals/case/{case.pk}/new/",
        {"direction": "out", "kind": "police", "partner": "派出所", "entrustment": "entrusted"},
    )
    assert response.status_code == 400
    assert not Referral.objects.filter(case=case).exists()


@pytest.mark.django_db
def test_pages_and_apis_take_a_fixed_number_of_queries(w, client, django_assert_max_num_queries):
    case = file_case(w)
    referrals = [
        record(w, case, kind=kind) for kind in ("court", "police", "petition", "legal_aid")
    ]
    client.force_login(w.secretary)
    api = client_for(w.secretary)
    budgets = [
        # session, user, scope (3), the count and the page of rows (2), the banner (1)
        (client, "/referrals/", 8),
        (client, f"/referrals/{referrals[0].pk}/", 8),
        (client, f"/referrals/case/{case.pk}/new/", 8),
        (api, "/api/v1/referrals/", 5),
        (api, f"/api/v1/referrals/{referrals[0].pk}/", 4),
    ]
    for who, url, budget in budgets:
        with django_assert_max_num_queries(budget):
            assert who.get(url).status_code == 200
    # More referrals cost no more queries.
    for _ in range(6):
        record(w, case)
    with django_assert_max_num_queries(8):
        assert client.get("/referrals/").status_code == 200
    with django_assert_max_num_queries(5):
        assert api.get("/api/v1/referrals/").status_code == 200


@pytest.mark.django_db
def test_the_case_section_costs_one_query_whatever_the_number_of_referrals(w, client):
    case = file_case(w)
    client.force_login(w.mediator)
    client.get(f"/cases/{case.pk}/")  # warm the caches (scope, categories)
    with CaptureQueriesContext(connection) as none:
        client.get(f"/cases/{case.pk}/")
    for kind in ("court", "police", "petition"):
        record(w, case, kind=kind)
    with CaptureQueriesContext(connection) as three:
        client.get(f"/cases/{case.pk}/")
    assert len(three) <= len(none) + 1


@pytest.mark.django_db(transaction=True)
def test_two_results_at_once_one_wins_the_other_conflicts(concurrency_world):  # noqa: F811
    w = concurrency_world
    case = file_case(w)
    referral = record(w, case)
    people = ["mediator", "secretary"]
    results = ["agreement", "failed"]

    def run(i):
        user = User.objects.get(username=people[i])
        path = f"/api/v1/referrals/{referral.pk}/result/"
        return client_for(user).post(path, {"result": results[i]}).status_code

    statuses = run_in_threads(2, run)

    assert sorted(statuses) == [200, 409]
    referral.refresh_from_db()
    assert referral.result == results[statuses.index(200)]
    assert CaseEvent.objects.filter(case=case, kind=K.LINKAGE_RESULT).count() == 1


@pytest.mark.django_db
def test_the_timeline_names_the_partner_and_its_case_number(w, client):
    case = file_case(w)
    record(w, case, partner_case_number="(2026)渝0103民诉前调7号")
    client.force_login(w.secretary)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    entry = html[html.index('data-event="linkage_out"') :]
    entry = entry[: entry.index("</li>")]
    assert "渝中区人民法院" in entry and "(2026)渝0103民诉前调7号" in entry

"""Every demo login × a case in and a case out of its reach × every URL that names a case,
pages and API alike: out of reach is always 404 (its existence is not told), within reach
never 404 and never a server error; lists name only cases within reach. Each request runs
in a savepoint rolled back after it, so every one meets the cases as built."""

import pytest
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from disputes import actions, apis, services
from disputes.demo import seed_categories
from disputes.models import Case, Category
from grids.demo import USERS
from grids.demo import seed as seed_people
from grids.models import Area, User
from tests.security.db import module_transaction

LOGINS = [username for username, *_rest in USERS]
ALLOWED_WITHIN_REACH = {200, 302, 400, 403, 405, 409}


@pytest.fixture(scope="module")
def cases(django_db_setup, django_db_blocker):
    with module_transaction(django_db_blocker):
        seed_people()
        seed_categories()
        leak = Category.objects.get(code="0203")

        def file(worker, area_code):
            return services.case_file(
                actor=User.objects.get(username=worker), area=Area.objects.get(code=area_code),
                category=leak, cause="楼上漏水", address="民生路12号", channel="grid_worker",
                parties=[{"side": "applicant", "name": "李秀英", "phone": "13800001111"}],
            )  # fmt: skip

        yield [file("gridworker", "500103001001G01M01"), file("gridworker2", "500103002001G01")]


def case_urls(pk: int) -> list[tuple[str, str, str]]:
    """(client kind, method, path) for every URL that names case `pk`."""
    urls = [("page", "get", f"/cases/{pk}/"), ("page", "post", f"/cases/{pk}/parties/reveal/")]
    urls += [("page", "post", f"/cases/{pk}/actions/{name}/") for name in actions.ACTIONS]
    urls += [("page", "get", f"/cases/{pk}/correct/"), ("page", "post", f"/cases/{pk}/correct/")]
    urls += [
        ("api", "get", f"/api/v1/cases/{pk}/"),
        ("api", "get", f"/api/v1/cases/{pk}/?reveal=parties"),
        ("api", "get", f"/api/v1/cases/{pk}/mediator-candidates/"),
    ]
    urls += [("api", "post", f"/api/v1/cases/{pk}/{name}/") for name in apis.ACTION_ENDPOINTS]
    # The case's mediation (sessions, agreement, papers).
    urls += [("page", "get", f"/mediation/cases/{pk}/")]
    urls += [
        ("page", method, f"/mediation/cases/{pk}/{rest}")
        for rest in ("sessions/new/", "agreement/")
        for method in ("get", "post")
    ]
    urls += [("page", "post", f"/mediation/cases/{pk}/documents/")]
    # Linkage referrals and the mediation file (apps above disputes).
    urls += [
        ("page", "get", f"/referrals/case/{pk}/new/"),
        ("page", "post", f"/referrals/case/{pk}/new/"),
        ("page", "get", f"/casefiles/case/{pk}/"),
        ("page", "get", f"/casefiles/case/{pk}/progress/"),
        ("page", "post", f"/casefiles/case/{pk}/archive/"),
    ]
    return urls


def signed_in(username: str):
    """A page client and an API client signed in as `username`, and the ids of the cases
    within their reach."""
    user = User.objects.get(username=username)
    page, api = Client(), APIClient()
    page.force_login(user)
    api.force_authenticate(user)
    return page, api, set(Case.objects.visible_to(user).values_list("pk", flat=True))


def rolled_back(client, method: str, path: str):
    with transaction.atomic():
        response = getattr(client, method)(path)
        transaction.set_rollback(True)
    return response


@pytest.mark.django_db
@pytest.mark.parametrize("username", LOGINS)
def test_every_case_url_hides_what_is_out_of_reach(cases, username):
    page, api, within = signed_in(username)
    wrong = []
    for case in cases:
        for kind, method, path in case_urls(case.pk):
            client = page if kind == "page" else api
            status = rolled_back(client, method, path).status_code
            reach = case.pk in within
            if not (status in ALLOWED_WITHIN_REACH if reach else status == 404):
                wrong.append(f"{method.upper()} {path}: {status} (within reach: {reach})")
    assert wrong == []


@pytest.mark.django_db
@pytest.mark.parametrize("username", LOGINS)
def test_lists_name_only_cases_within_reach(cases, username):
    page, api, within = signed_in(username)

    listed = {row["id"] for row in api.get("/api/v1/cases/").json()["results"]}
    assert listed == within
    html = page.get("/cases/").content.decode()
    for case in cases:
        assert (case.number in html) == (case.pk in within)

"""Corrections racing each other through the API (PostgreSQL, one connection per thread):
they apply one after the other under the case's row lock, or the later one is refused as a
conflict when it was made on a case that changed meanwhile; never a lost update."""

import pytest

from disputes.models import Case, CaseEvent
from grids.models import User
from tests.disputes.test_api import client_for, file_case
from tests.disputes.test_api_concurrency import run_in_threads, w  # noqa: F401  (fixture)

K = CaseEvent.Kind


def correct(username, case, payload):
    user = User.objects.get(username=username)
    return client_for(user).post(f"/api/v1/cases/{case.pk}/correct/", payload, format="json")


@pytest.mark.django_db(transaction=True)
def test_two_corrections_of_what_one_page_showed_one_wins_the_other_conflicts(w):  # noqa: F811
    case = file_case(w)
    seen = Case.objects.get(pk=case.pk).updated_at.isoformat()
    people = ["secretary", "street"]
    addresses = ["民生路14号", "民生路16号"]

    def run(i):
        payload = {"reason": "核实地址", "address": addresses[i], "expected_updated_at": seen}
        return correct(people[i], case, payload).status_code

    statuses = run_in_threads(2, run)

    assert sorted(statuses) == [200, 409]
    assert CaseEvent.objects.filter(case=case, kind=K.CORRECTED).count() == 1
    assert Case.objects.get(pk=case.pk).address == addresses[statuses.index(200)]


@pytest.mark.django_db(transaction=True)
def test_two_corrections_of_different_fields_both_apply(w):  # noqa: F811
    case = file_case(w)
    payloads = [
        ("secretary", {"reason": "核实地址", "address": "民生路14号"}),
        ("street", {"reason": "补充情况", "description": "漏水已持续三天"}),
    ]

    statuses = run_in_threads(
        2, lambda i: correct(payloads[i][0], case, payloads[i][1]).status_code
    )

    assert statuses == [200, 200]
    case = Case.objects.get(pk=case.pk)
    assert (case.address, case.description) == ("民生路14号", "漏水已持续三天")
    assert CaseEvent.objects.filter(case=case, kind=K.CORRECTED).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_corrections_of_one_field_chain_in_the_timeline(w):  # noqa: F811
    case = file_case(w)
    original = case.address
    people = ["secretary", "street"]
    addresses = ["民生路14号", "民生路16号"]

    statuses = run_in_threads(
        2,
        lambda i: correct(people[i], case, {"reason": "核实", "address": addresses[i]}).status_code,
    )

    assert statuses == [200, 200]
    events = list(CaseEvent.objects.filter(case=case, kind=K.CORRECTED).order_by("id"))
    chain = [(e.data["changes"][0]["from"], e.data["changes"][0]["to"]) for e in events]
    # One after the other: the second saw the first's value, and the case holds the last.
    assert chain[0][0] == original
    assert chain[1][0] == chain[0][1]
    assert Case.objects.get(pk=case.pk).address == chain[1][1]

"""Races on a resolution's check and on a supervision card, through the API (PostgreSQL, one
connection per thread): a pass and a fail of the same check at once, two answers to the same
card at once, two level-above staff supervising the same overdue case at once. One wins,
the other gets 409 (or, for 督办 by hand, both are recorded: two people may each ask)."""

import pytest

from disputes import services
from disputes.models import CaseEvent, CaseStatus, SupervisionCard
from grids.models import User
from sla.models import SlaPolicy
from tests.disputes.test_api import client_for, file_case
from tests.disputes.test_api_concurrency import run_in_threads, w  # noqa: F401  (fixture)
from tests.disputes.test_close_checks import resolved

K = CaseEvent.Kind
S = CaseStatus


def post(username: str, url: str, payload: dict) -> int:
    return client_for(User.objects.get(username=username)).post(url, payload, format="json")


@pytest.mark.django_db(transaction=True)
def test_a_pass_and_a_fail_of_one_check_at_once_one_wins(w):  # noqa: F811
    # A transactional test may run after another emptied the tables, the shipped policy
    # with them: the check needs a policy that asks for it.
    SlaPolicy.objects.get_or_create(code="default", version=1, defaults={"name": "默认时限"})
    case = resolved(w)
    url = f"/api/v1/cases/{case.pk}/verify/"
    attempts = [("secretary", {"passed": True}), ("street", {"passed": False, "note": "未履行"})]

    statuses = run_in_threads(2, lambda i: post(attempts[i][0], url, attempts[i][1]).status_code)

    assert sorted(statuses) == [200, 409]
    case.refresh_from_db()
    winner = statuses.index(200)
    assert case.status == (S.CLOSED if winner == 0 else S.IN_MEDIATION)
    checks = CaseEvent.objects.filter(case=case, kind__in=[K.CLOSED, K.VERIFY_FAILED])
    assert checks.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_answers_to_one_card_at_once_one_wins(w):  # noqa: F811
    case = file_case(w)
    card = services.card_issue(case=case, actor=w.street, note="请今日内分派")
    url = f"/api/v1/cases/{case.pk}/answer-card/"
    replies = ["已分派调解员", "明日上门"]

    statuses = run_in_threads(
        2, lambda i: post("secretary", url, {"card": card.pk, "reply": replies[i]}).status_code
    )

    # The loser finds the card answered (409), nothing written.
    assert sorted(statuses) == [200, 409]
    card.refresh_from_db()
    assert card.reply == replies[statuses.index(200)]
    assert CaseEvent.objects.filter(case=case, kind=K.CARD_ANSWERED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_supervisors_at_once_each_get_their_card(w):  # noqa: F811
    case = file_case(w)
    url = f"/api/v1/cases/{case.pk}/supervise/"
    who = ["street", "district"]

    statuses = run_in_threads(2, lambda i: post(who[i], url, {"note": f"{who[i]}督办"}).status_code)

    assert statuses == [200, 200]
    issued_by = SupervisionCard.objects.filter(case=case).values_list(
        "issued_by__username", flat=True
    )
    assert sorted(issued_by) == sorted(who)
    assert CaseEvent.objects.filter(case=case, kind=K.CARD_ISSUED).count() == 2

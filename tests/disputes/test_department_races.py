"""Races on a department's task through the API (PostgreSQL, one connection per thread):
two sign-fors at once, a pass and a fail at once; one wins, the other gets 409."""

from datetime import timedelta

import pytest

from disputes.department_models import DepartmentTask
from disputes.models import CaseEvent
from grids.models import User
from sla import timers
from tests.disputes.test_api_concurrency import run_in_threads, w  # noqa: F401  (fixture)
from tests.disputes.test_department_work import dispatched, post, reported, task_of

K = CaseEvent.Kind
T = DepartmentTask.Status


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sign_fors_one_wins(w):  # noqa: F811
    case = dispatched(w)

    def sign(_i):
        user = User.objects.get(username="labour")
        return post(user, case, "sign-for", {"note": "签收"}).status_code

    assert sorted(run_in_threads(2, sign)) == [200, 409]
    assert CaseEvent.objects.filter(case=case, kind=K.DEPT_SIGNED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_pass_and_a_fail_at_once_one_wins(w):  # noqa: F811
    case = reported(w)
    deciders = ["secretary", "street"]
    payloads = [{"decision": "pass"}, {"decision": "fail", "note": "缺凭证"}]

    def verify(i):
        user = User.objects.get(username=deciders[i])
        return post(user, case, "verify-report", payloads[i]).status_code

    statuses = run_in_threads(2, verify)
    assert sorted(statuses) == [200, 409]
    assert CaseEvent.objects.filter(case=case, kind=K.DEPT_VERIFIED).count() == 1
    winner = statuses.index(200)
    assert task_of(case).status == (T.DONE if winner == 0 else T.SIGNED)


@pytest.mark.django_db(transaction=True)
def test_overlapping_sweeps_record_a_missed_sign_for_once(w):  # noqa: F811
    case = dispatched(w)
    due = task_of(case).sign_due_at

    run_in_threads(3, lambda _i: timers.sweep(now=due + timedelta(hours=1)))

    missed = CaseEvent.objects.filter(case=case, kind="sla_breach", data__reason="not_signed_for")
    assert [e.at for e in missed] == [due]

"""Races through the API: two people assigning one case at once, fifty filings at once.

These need PostgreSQL: SQLite serialises writers by locking the whole database, so there
is no race to lose there. Each thread has its own client and database connection."""

import threading
from collections.abc import Callable

import pytest
from django.db import connection
from django.utils import timezone

from disputes import services
from disputes.demo import seed_categories
from disputes.models import Case, CaseEvent, CaseStatus
from grids.models import User
from tests.conftest import service_missing
from tests.disputes.test_api import World, client_for, file_case, filing

S = CaseStatus
K = CaseEvent.Kind


@pytest.fixture
def w(demo):
    if connection.vendor != "postgresql":
        service_missing("concurrency tests need PostgreSQL (set DATABASE_URL)")
    seed_categories()
    return World()


def run_in_threads(count: int, work: Callable[[int], object]) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # reported by the caller's assertions
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.django_db(transaction=True)
def test_it_lets_only_one_of_two_concurrent_assignments_win(w):
    case = file_case(w)
    deciders = [w.secretary.pk, w.street.pk]
    mediators = [w.mediator.pk, w.secretary.pk]

    def assign(i):
        client = client_for(User.objects.get(pk=deciders[i]))
        response = client.post(
            f"/api/v1/cases/{case.pk}/assign/", {"mediator": mediators[i]}, format="json"
        )
        return response.status_code

    statuses = run_in_threads(2, assign)

    assert sorted(statuses) == [200, 409]
    case.refresh_from_db()
    assert case.status == S.ASSIGNED
    assert CaseEvent.objects.filter(case=case, kind=K.ASSIGNED).count() == 1
    winner = mediators[statuses.index(200)]
    assert case.mediator_id == winner


@pytest.mark.django_db(transaction=True)
def test_it_gives_fifty_concurrent_filings_fifty_distinct_numbers(w):
    data = filing(w)

    def file(i):
        client = client_for(User.objects.get(username="gridworker"))
        response = client.post("/api/v1/cases/", data | {"cause": f"纠纷{i}"}, format="json")
        assert response.status_code == 201, response.content
        return response.json()["number"]

    results = run_in_threads(50, file)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(set(results)) == 50
    assert Case.objects.count() == 50
    # The year's sequence (services.filing._next_number): none rolled back, so no gap.
    year = timezone.localdate().year
    first = int(min(results).split("-")[1])
    assert sorted(results) == [f"JF{year}-{n:06d}" for n in range(first, first + 50)]


@pytest.mark.django_db(transaction=True)
def test_a_double_tap_racing_itself_files_one_case_and_uses_one_number(w):
    data = filing(w)

    def file(i):
        client = client_for(User.objects.get(username="gridworker"))
        response = client.post(
            "/api/v1/cases/", data, format="json", HTTP_IDEMPOTENCY_KEY="tap-tap"
        )
        assert response.status_code in (200, 201), response.content
        return response.status_code, response.json()["id"]

    results = run_in_threads(4, file)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(code for code, _ in results) == [200, 200, 200, 201]
    assert len({pk for _, pk in results}) == 1
    assert Case.objects.count() == 1
    # The losers' numbers are not reused (a sequence does not roll back): a documented gap.
    # The next filing takes a number after all of theirs, never one of them.
    first = Case.objects.get().number
    response = client_for(User.objects.get(username="gridworker")).post(
        "/api/v1/cases/", data | {"cause": "下一件"}, format="json"
    )
    assert response.json()["number"] > first


@pytest.mark.django_db(transaction=True)
def test_two_copies_of_an_offline_progress_note_arriving_together_are_recorded_once(w):
    """The phone's queue sent a note, lost the reply and sent it again; both arrive."""
    key = "6b0c2f4d9e8a4f1b8c3d2e1f0a9b8c7d"
    case = file_case(w)
    services.case_accept(case=case, actor=w.secretary)
    services.case_assign(case=case, mediator=w.mediator, actor=w.secretary)

    def send(_index):
        client = client_for(User.objects.get(username="mediator"))
        return client.post(
            f"/api/v1/cases/{case.pk}/progress/",
            {"note": "同时到达", "client_key": key},
            format="json",
        ).status_code

    assert run_in_threads(4, send) == [200, 200, 200, 200]
    notes = CaseEvent.objects.filter(case=case, kind=K.PROGRESS).values_list("note", flat=True)
    assert list(notes) == ["同时到达"]

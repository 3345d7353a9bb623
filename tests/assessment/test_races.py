"""Races on PostgreSQL: two computations of one month at once each get their own version;
overlapping monthly tasks leave one; two publishers, one wins. (SQLite serialises writers,
so there is no race to lose there.)"""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from assessment import services, tasks
from assessment.models import AssessmentScheme, AssessmentSnapshot
from common.errors import StateConflict
from grids.models import User
from tests.conftest import service_missing
from tests.disputes.test_api_concurrency import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin(demo):
    if connection.vendor != "postgresql":
        service_missing("race tests need PostgreSQL (set DATABASE_URL)")
    if not AssessmentScheme.objects.exists():  # migration data, gone after a flush
        importlib.import_module("assessment.migrations.0002_default_scheme").create(apps, None)
    return User.objects.get(username="admin")


def month():
    return services.last_month(timezone.localdate())


def test_two_computations_of_one_month_at_once_make_two_versions(admin):
    results = run_in_threads(2, lambda i: services.snapshot_compute(month=month(), actor=admin))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(AssessmentSnapshot.objects.values_list("version", flat=True)) == [1, 2]


def test_overlapping_monthly_tasks_leave_one_version(admin):
    results = run_in_threads(3, lambda i: tasks.assess_last_month())
    assert not [r for r in results if isinstance(r, Exception)], results
    assert AssessmentSnapshot.objects.count() == 1
    assert {r["version"] for r in results} == {1}


def test_of_two_publishers_one_wins(admin):
    snapshot = services.snapshot_compute(month=month(), actor=admin)
    results = run_in_threads(2, lambda i: services.snapshot_publish(snapshot=snapshot, actor=admin))
    assert sorted(type(r).__name__ for r in results) == ["AssessmentSnapshot", "StateConflict"]
    assert any(isinstance(r, StateConflict) for r in results)
    assert AssessmentSnapshot.objects.get().published

"""Races: two officers converting the same visit at once (a double tap on two phones), and
two scheduler runs overlapping (beat and a manual command). PostgreSQL only: SQLite
serialises writers, so there is no race to lose there."""

import pytest
from django.db import connection

from disputes.models import Case
from reception_days import services
from reception_days.models import ReceptionSession, SessionKind, SessionStaff, Visit
from tests.conftest import service_missing
from tests.disputes.test_api_concurrency import run_in_threads
from tests.reception_days.conftest import World, day


@pytest.fixture
def tworld(transactional_db):
    if connection.vendor != "postgresql":
        service_missing("concurrency tests need PostgreSQL (set DATABASE_URL)")
    return World()


def test_it_files_one_case_when_two_officers_convert_a_visit_at_once(tworld):
    visit = tworld.visit(tworld.session())
    officers = [tworld.lawyer, tworld.judge, tworld.police, tworld.prosecutor]

    def convert(i):
        return services.visit_convert(
            visit=Visit.objects.get(pk=visit.pk), actor=officers[i], category=tworld.category
        )

    results = run_in_threads(4, convert)

    cases = [r for r in results if isinstance(r, Case)]
    refused = [r for r in results if isinstance(r, services.SessionStateError)]
    assert (len(cases), len(refused)) == (1, 3), results
    assert Case.objects.count() == 1
    assert Visit.objects.get().case == cases[0]


def test_it_creates_each_session_once_when_scheduler_runs_overlap(tworld):
    results = run_in_threads(
        3, lambda i: services.schedule_monthly_sessions(months=12, today=day("2026-01-01"))
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(len(r) for r in results) == 24  # C1 and C3, twelve months
    assert ReceptionSession.objects.filter(kind=SessionKind.MONTHLY).count() == 24
    # Every session has its team exactly once: C1's four officers, C3's lawyer.
    assert SessionStaff.objects.count() == 12 * 4 + 12 * 1

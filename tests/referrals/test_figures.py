"""Linkage figures add up: per kind and direction, the totals are the sum of the kinds and
the count of the rows themselves; the dashboard page shows what the API answers; the area
and the period cut the same rows for both."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from grids.models import Area
from referrals import services
from referrals.models import Referral
from referrals.selectors import linkage_figures
from sla import timers
from tests.disputes.test_api import client_for, file_case, seeded  # noqa: F401

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


@pytest.fixture
def w(seeded, db):  # noqa: F811
    return seeded


def make(w, case, direction, kind, *, entrustment="", started_at=None, result=None):
    referral = services.referral_record(
        case=case, actor=w.admin, direction=direction, kind=kind, partner="联动单位",
        entrustment=entrustment, started_at=started_at,
    )  # fmt: skip
    if result:
        services.referral_result(referral=referral, actor=w.admin, result=result)
    return referral


@pytest.fixture
def referrals(w):
    now = timezone.now()
    here, there = file_case(w), file_case(w, actor=w.gridworker2, area=w.other_grid)
    make(w, here, "out", "court")
    make(w, here, "out", "court", result="agreement")
    make(w, here, "in", "court", entrustment="entrusted", result="agreement")
    late = make(w, here, "in", "court", entrustment="delegated", started_at=now - 40 * DAY)
    timers.sweep(now=now)  # its limit passed ten days ago
    make(w, here, "in", "police")
    make(w, here, "out", "petition", result="failed")
    make(w, there, "out", "legal_aid")
    make(w, there, "in", "administrative", result="partial")
    late.refresh_from_db()
    assert late.overdue_at is not None
    return here, there


def check_adds_up(figures, rows):
    kinds, totals = figures["kinds"], figures["totals"]
    assert totals["total"] == sum(k["total"] for k in kinds) == rows.count()
    for direction in ("in", "out"):
        for key in ("total", "pending", "finished"):
            assert totals[direction][key] == sum(k[direction][key] for k in kinds)
        assert totals[direction]["total"] == rows.filter(direction=direction).count()
        assert (
            totals[direction]["pending"] + totals[direction]["finished"]
            == totals[direction]["total"]
        )
    for k in kinds:
        assert k["total"] == k["in"]["total"] + k["out"]["total"]
        assert k["total"] == rows.filter(kind=k["kind"]).count()
        assert (
            k["entrusted"] == k["entrusted_pending"] + k["entrusted_on_time"] + k["entrusted_late"]
        )
    assert totals["entrusted"] == rows.exclude(entrustment="").count()


def test_linkage_figures_add_up_for_the_district_and_a_street(w, referrals):
    today = timezone.localdate()
    start = today - timedelta(days=60)
    district = Area.objects.get(code="500103")
    street = Area.objects.get(code="500103001")

    everything = linkage_figures(district, start, today)
    check_adds_up(everything, Referral.objects.all())
    assert everything["totals"]["total"] == 8
    court = next(k for k in everything["kinds"] if k["kind"] == "court")
    assert (court["out"]["total"], court["in"]["total"]) == (2, 2)
    assert (court["entrusted"], court["entrusted_on_time"], court["entrusted_late"]) == (2, 1, 1)

    streets = linkage_figures(street, start, today)
    check_adds_up(streets, Referral.objects.filter(case__street_id=street.pk))
    assert streets["totals"]["total"] == 6

    # The period: the referral started 40 days ago is in the last 60 days, not the last 30.
    recent = linkage_figures(district, today - timedelta(days=30), today)
    assert recent["totals"]["total"] == 7


def test_the_page_shows_what_the_api_answers(w, referrals, client):
    today = timezone.localdate()
    street = Area.objects.get(code="500103001")
    params = {
        "area": street.pk,
        "from": (today - timedelta(days=60)).isoformat(),
        "to": today.isoformat(),
    }

    answer = client_for(w.district).get("/api/v1/stats/linkage/", params).json()
    assert answer["kinds"] == linkage_figures(street, today - timedelta(days=60), today)["kinds"]
    client.force_login(w.district)
    html = client.get("/dashboard/", params).content.decode()
    section = html[html.index('id="linkage"') :]
    for row in [*answer["kinds"], {"kind": "total", **answer["totals"]}]:
        cells = re.search(rf'data-linkage="{row["kind"]}".*?</tr>', section, re.S).group(0)
        shown = dict(re.findall(r'data-col="(\w+)">([^<]*)<', cells))
        assert int(shown["in"]) == row["in"]["total"]
        assert int(shown["out"]) == row["out"]["total"]
        assert int(shown["pending"]) == row["in"]["pending"] + row["out"]["pending"]
        assert int(shown["finished"]) == row["in"]["finished"] + row["out"]["finished"]


def test_the_api_refuses_those_without_a_dashboard_and_bad_dates(w):
    assert client_for(w.gridworker).get("/api/v1/stats/linkage/").status_code == 403
    bad = client_for(w.district).get("/api/v1/stats/linkage/", {"from": "yesterday"})
    assert bad.status_code == 400


def test_the_api_answers_in_a_fixed_number_of_queries(w, referrals, django_assert_max_num_queries):
    api = client_for(w.district)
    # Scope and the dashboard roots (2), the ?area= lookup (1), the figures (1).
    with django_assert_max_num_queries(6):
        assert api.get("/api/v1/stats/linkage/").status_code == 200

"""Knowing a resident's phone number must not give anyone their report. A second report
from the same phone for the same place is a report of its own (its own code and key), linked
for staff as a possible duplicate; the first report's code, case and rating stay out of the
second browser's reach."""

from datetime import timedelta

import pytest
from django.urls import reverse

from disputes.models import Case, CaseEvent
from residents.models import Rating, ReopenRequest, ResidentReport, ResidentSupplement
from tests.residents.conftest import PHONE, T0, handle_to_close, report

pytestmark = pytest.mark.django_db

TRACK = "/r/track/"


def submit(client, world, text):
    data = {"topic": "neighbours", "text": text, "address": "民生路12号3单元",
            "name": "王阿姨", "phone": PHONE}  # fmt: skip
    return client.post(reverse("resident_public:report", args=[world.grid.code]), data)


@pytest.fixture
def victim(world, client):
    """The real resident reports from their own browser."""
    response = submit(client, world, "楼上每天深夜装修，噪音很大")
    assert response.status_code == 302
    return ResidentReport.objects.get()


def test_the_takeover_path_returns_nothing_of_the_first_report(world, victim, client_factory):
    attacker = client_factory()
    world.at(T0 + timedelta(hours=2))

    response = submit(attacker, world, "随便写点什么")
    done = attacker.get(response["Location"])

    assert Case.objects.count() == 2 and ResidentSupplement.objects.count() == 0
    mine = ResidentReport.objects.exclude(pk=victim.pk).get()
    body = done.content.decode()
    assert mine.display_code in body
    assert victim.display_code not in body and victim.tracking_code not in body
    assert victim.case.number not in body and victim.case.cause not in body
    # The attacker's browser cannot open, add to or rate the first report.
    page = attacker.get(reverse("resident_public:case", args=[victim.tracking_code]))
    assert page.status_code == 302 and page["Location"].startswith(TRACK)
    rated = attacker.post(
        reverse("resident_public:rate", args=[victim.tracking_code]),
        {"satisfaction": "satisfied"},
    )
    assert rated.status_code == 302 and not Rating.objects.exists()
    # Nor does the phone's last four digits open it any more.
    lookup = attacker.post(TRACK, {"code": victim.tracking_code, "secret": PHONE[-4:]})
    assert lookup.status_code == 200
    assert not CaseEvent.objects.filter(case=victim.case, actor=None, kind="attachment").exists()


def test_the_real_reporter_can_still_rate_unsatisfied_and_ask_to_reopen(
    world, victim, client, client_factory
):
    attacker = client_factory()
    submit(attacker, world, "随便写点什么")
    handle_to_close(world, Case.objects.get(pk=victim.case_id), closed_at=T0 + timedelta(days=2))

    response = client.post(
        reverse("resident_public:rate", args=[victim.tracking_code]),
        {"satisfaction": "unsatisfied", "comment": "还是很吵"},
    )

    assert response.status_code == 302
    assert Rating.objects.get().report == victim
    assert ReopenRequest.objects.filter(case=victim.case).exists()


def test_staff_see_the_repeat_as_a_possible_duplicate(world, victim, client_factory):
    world.at(T0 + timedelta(hours=2))
    submit(client_factory(), world, "今晚又在敲")
    repeat = ResidentReport.objects.exclude(pk=victim.pk).get()
    assert repeat.duplicate_of == victim

    staff = client_factory()
    staff.force_login(world.u("admin"))
    first_page = staff.get(reverse("disputes:detail", args=[victim.case_id])).content.decode()
    repeat_page = staff.get(reverse("disputes:detail", args=[repeat.case_id])).content.decode()

    assert 'data-testid="duplicate-hint"' in first_page and repeat.case.number in first_page
    assert 'data-testid="duplicate-hint"' in repeat_page and victim.case.number in repeat_page


def test_the_key_is_shown_once_and_stored_only_hashed(world, client):
    filed = report(world)
    stored = ResidentReport.objects.get(pk=filed.pk)
    assert len(filed.key) == 12 and filed.key not in stored.tracking_key_hash
    assert len(stored.tracking_key_hash) == 64

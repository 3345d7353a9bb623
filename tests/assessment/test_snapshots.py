"""Monthly snapshots: computed by the task on the 1st for last month (once, however often
beat ticks), frozen once published (the rows, the snapshot, the admin), recomputed only as a
new version; a published month unchanged after later edits to its cases."""

from datetime import date

import pytest
import time_machine
from django.conf import settings
from django.contrib.admin.sites import site
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.test import RequestFactory, override_settings
from django.urls import reverse

from assessment import services, tasks
from assessment.models import (
    AssessmentRow,
    AssessmentScheme,
    AssessmentSnapshot,
    FrozenError,
    MetricWeight,
)
from common.errors import StateConflict
from disputes import services as case_services
from disputes.demo import seed_categories
from grids.demo import seed as seed_demo
from tests.assessment.assessment_world import C1, MARCH, TASK_TIME, build
from tests.dashboards.dashboard_world import FAST_HASHERS, World, _at, local

pytestmark = pytest.mark.django_db
RANKING = reverse("assessment:ranking")
API = reverse("assessment-api:ranking")


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with _at(local(1, 1)):
                seed_demo()
                seed_categories()
            yield build(World())
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def w(seeded, db, time_machine):
    time_machine.move_to(TASK_TIME, tick=False)
    return seeded


def rows_of(snapshot) -> dict:
    return {
        (r.kind, r.unit_id, r.community_id): (r.figures, r.score, r.rank, r.volume, r.name)
        for r in AssessmentRow.objects.filter(snapshot=snapshot)
    }


# --- the monthly task ------------------------------------------------------------------------


def test_it_computes_last_month_on_the_first_and_only_once(w):
    result = tasks.assess_last_month()
    snapshot = AssessmentSnapshot.objects.get()
    assert result == {"month": "2026-03", "version": 1, "rows": snapshot.row_count}
    assert (snapshot.month, snapshot.version, snapshot.published) == (MARCH, 1, False)
    assert snapshot.computed_by is None and snapshot.data_as_of == TASK_TIME
    assert snapshot.weights["closing"] == "20.00"
    row = AssessmentRow.objects.get(snapshot=snapshot, kind="community", unit_id=w.c1.pk)
    assert row.figures == C1
    # A repeated beat tick, or one a day late, leaves the month alone.
    with time_machine.travel(local(4, 2, 3), tick=False):
        again = tasks.assess_last_month()
    assert again["version"] == 1
    assert AssessmentSnapshot.objects.count() == 1


def test_it_is_scheduled_on_the_first_of_the_month():
    entry = settings.CELERY_BEAT_SCHEDULE["assessment-last-month"]
    assert entry["task"] == "assessment.tasks.assess_last_month"
    assert entry["schedule"].day_of_month == {1}


def test_it_refuses_to_assess_a_month_that_is_not_over(w):
    with pytest.raises(ValidationError) as refused:
        services.snapshot_compute(month=date(2026, 4, 1))
    assert "month" in refused.value.message_dict
    assert not AssessmentSnapshot.objects.exists()


# --- frozen once published -------------------------------------------------------------------


def test_a_published_month_is_unchanged_after_later_edits_to_its_cases(client, w):
    first = services.snapshot_compute(month=MARCH)
    services.snapshot_publish(snapshot=first, actor=w.admin)
    before = rows_of(first)

    # April: the late case is finally handled, the unassigned one assigned, a resolved case
    # reopened, a case's community renamed.
    with time_machine.travel(local(4, 2, 9), tick=False):
        case_services.case_progress(case=w.case("c"), actor=w.district, note="终于处理")
        case_services.case_assign(case=w.case("e"), mediator=w.mediator, actor=w.district)
        case_services.case_reopen(case=w.case("a"), actor=w.district, reason="又吵起来了")
    w.c1.name = "民生路新社区"
    w.c1.save(update_fields=["name"])

    assert rows_of(first) == before
    client.force_login(w.district)
    api = client.get(API, {"month": "2026-03", "area": w.s1.pk, "kind": "community"}).json()
    row = next(r for r in api["rows"] if r["unit_id"] == w.c1.pk)
    assert row["name"] == "民生路社区"
    assert {f["code"]: [f["part"], f["whole"]] for f in row["figures"]} == C1

    # Recomputing makes version 2 from today's data; version 1 stays the official one.
    with time_machine.travel(local(4, 2, 10), tick=False):
        second = services.snapshot_compute(month=MARCH, actor=w.admin, reason="重算")
    assert (second.version, second.published) == (2, False)
    new_c1 = AssessmentRow.objects.get(snapshot=second, kind="community", unit_id=w.c1.pk)
    assert new_c1.figures["first_handling"] == [2, 3]  # handled, but late
    assert new_c1.figures["verified_resolution"] == [1, 2]  # a is no longer closed
    assert new_c1.name == "民生路新社区"
    assert rows_of(first) == before
    api = client.get(API, {"month": "2026-03"}).json()
    assert api["snapshot"]["version"] == 1
    # District staff may open the draft by its number; a street only sees what is published.
    draft = client.get(API, {"month": "2026-03", "version": 2})
    assert draft.status_code == 200 and draft.json()["snapshot"]["published"] is False
    client.force_login(w.street)
    assert client.get(API, {"month": "2026-03", "version": 2}).status_code == 400


def test_it_refuses_every_way_of_changing_a_published_month(w):
    snapshot = services.snapshot_compute(month=MARCH)
    services.snapshot_publish(snapshot=snapshot, actor=w.admin)
    row = AssessmentRow.objects.filter(snapshot=snapshot).first()

    row.score = 100
    with pytest.raises(FrozenError):
        row.save()
    with pytest.raises(FrozenError):
        AssessmentRow.objects.filter(snapshot=snapshot).update(score=100)
    with pytest.raises(FrozenError):
        AssessmentRow.objects.filter(snapshot=snapshot).delete()
    with pytest.raises(FrozenError):
        row.delete()
    snapshot.reason = "改一下"
    with pytest.raises(FrozenError):
        snapshot.save()
    with pytest.raises(FrozenError):
        AssessmentSnapshot.objects.filter(pk=snapshot.pk).update(published=False)
    with pytest.raises(FrozenError):
        snapshot.delete()
    with pytest.raises(FrozenError):
        AssessmentSnapshot.objects.filter(pk=snapshot.pk).delete()
    assert AssessmentSnapshot.objects.get(pk=snapshot.pk).published
    assert AssessmentRow.objects.filter(snapshot=snapshot).count() == snapshot.row_count


def test_it_refuses_to_change_a_scorecard_even_in_a_draft(w):
    snapshot = services.snapshot_compute(month=MARCH)
    row = AssessmentRow.objects.filter(snapshot=snapshot).first()
    row.score = 100
    with pytest.raises(FrozenError):
        row.save()
    # An unpublished draft may be thrown away whole.
    snapshot.delete()
    assert not AssessmentRow.objects.filter(snapshot_id=snapshot.pk).exists()


def test_it_publishes_once_and_only_for_an_administrator(w):
    snapshot = services.snapshot_compute(month=MARCH)
    with pytest.raises(PermissionDenied):
        services.snapshot_publish(snapshot=snapshot, actor=w.district)
    published = services.snapshot_publish(snapshot=snapshot, actor=w.admin)
    assert published.published and published.published_by == w.admin
    with pytest.raises(StateConflict):
        services.snapshot_publish(snapshot=snapshot, actor=w.admin)
    with pytest.raises(PermissionDenied):
        services.snapshot_compute(month=MARCH, actor=w.district)


def test_it_keeps_the_weights_a_month_was_scored_with_when_the_scheme_changes(w):
    snapshot = services.snapshot_compute(month=MARCH)
    services.snapshot_publish(snapshot=snapshot, actor=w.admin)
    score = AssessmentRow.objects.get(snapshot=snapshot, kind="community", unit_id=w.c1.pk).score
    scheme = AssessmentScheme.objects.get(is_active=True)
    MetricWeight.objects.filter(scheme=scheme, metric="closing").update(weight=90)
    again = services.snapshot_compute(month=MARCH, actor=w.admin)
    assert again.weights["closing"] == "90.00" and snapshot.weights["closing"] == "20.00"
    assert AssessmentRow.objects.get(snapshot=snapshot, kind="community",
                                     unit_id=w.c1.pk).score == score  # fmt: skip
    assert AssessmentRow.objects.get(snapshot=again, kind="community",
                                     unit_id=w.c1.pk).score != score  # fmt: skip


# --- the admin -------------------------------------------------------------------------------


def test_the_admin_offers_no_change_or_delete_of_a_published_month(w):
    snapshot = services.snapshot_compute(month=MARCH)
    request = RequestFactory().get("/admin/")
    request.user = w.admin
    admin = site._registry[AssessmentSnapshot]
    assert admin.has_delete_permission(request, snapshot)
    services.snapshot_publish(snapshot=snapshot, actor=w.admin)
    snapshot.refresh_from_db()
    assert not admin.has_change_permission(request, snapshot)
    assert not admin.has_delete_permission(request, snapshot)
    assert not admin.has_add_permission(request)
    rows = site._registry[AssessmentRow]
    assert not rows.has_change_permission(request) and not rows.has_delete_permission(request)


def test_the_admin_action_recomputes_as_a_new_version(
    client, w, celery_eager, django_capture_on_commit_callbacks
):
    snapshot = services.snapshot_compute(month=MARCH)
    services.snapshot_publish(snapshot=snapshot, actor=w.admin)
    client.force_login(w.admin)
    changelist = reverse("admin:assessment_assessmentsnapshot_changelist")
    with django_capture_on_commit_callbacks(execute=True):  # the task is queued on commit
        response = client.post(
            changelist, {"action": "recompute", "_selected_action": [snapshot.pk]}, follow=True
        )
    assert response.status_code == 200
    versions = list(
        AssessmentSnapshot.objects.filter(month=MARCH).values_list("version", "published")
    )
    assert sorted(versions) == [(1, True), (2, False)]

"""回访: on the 1st of each month every street gets a seeded random sample of at least 30% of
last month's closed cases, always with every case rated unsatisfied; street staff record each
call, and "not really settled" reopens the case."""

import math
from datetime import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from disputes import services as case_services
from disputes.models import CaseEvent, CaseStatus
from grids.models import Area, Role
from notifications.models import Notification
from residents import callbacks, services
from residents.models import CallbackDraw, CallbackPolicy, CallbackTask, ReopenRequest
from residents.tasks import draw_callbacks
from tests.factories import UserFactory, assign
from tests.residents.conftest import SH, handle_to_close, report, staff_case

pytestmark = pytest.mark.django_db

OCTOBER = datetime(2026, 10, 1).date()
DRAW_TIME = datetime(2026, 11, 1, 1, 30, tzinfo=SH)


def oct_(day, hour=10):
    return datetime(2026, 10, day, hour, 0, tzinfo=SH)


def grid_in(street_code: str) -> Area:
    return Area.objects.filter(path__startswith=Area.objects.get(code=street_code).path,
                               level="grid").order_by("path").first()  # fmt: skip


@pytest.fixture
def october(world):
    """Closed cases in the demo's three streets; a few residents unhappy."""
    world.at(oct_(1, 8))
    made = {"closed": {}, "unsatisfied": set(), "outside": set()}
    plan = {"500103001": 10, "500103002": 7, "500103003": 1}
    for street_code, count in plan.items():
        area = grid_in(street_code)
        ids = []
        for n in range(count):
            world.at(oct_(2 + n, 8))
            case = staff_case(world, area, cause=f"{street_code}-{n}")
            ids.append(handle_to_close(world, case, closed_at=oct_(2 + n, 15)).pk)
        made["closed"][street_code] = ids
    # Two resident reports in street 1, closed in October and rated unsatisfied.
    for n in range(2):
        world.at(oct_(20 + n, 8))
        filed = report(world, world.micro, phone=f"1390000000{n}")
        handle_to_close(world, filed.case, closed_at=oct_(20 + n, 15))
        services.rating_submit(report=filed, satisfaction="unsatisfied", comment="没解决")
        made["closed"]["500103001"].append(filed.case_id)
        made["unsatisfied"].add(filed.case_id)
    # Closed and reopened in October: not closed any more, not in the population.
    world.at(oct_(25, 8))
    reopened = handle_to_close(world, staff_case(world, world.grid), closed_at=oct_(25, 15))
    case_services.case_reopen(case=reopened, actor=world.u("admin"), reason="复查")
    made["outside"].add(reopened.pk)
    world.at(oct_(31, 23))
    return made


@pytest.fixture
def september_unsatisfied(world):
    """Closed on 30 September, rated unsatisfied on 2 October (the supervisor kept it closed):
    September's draw was made before the rating, so October's must include it."""
    world.at(datetime(2026, 9, 29, 8, 0, tzinfo=SH))
    filed = report(world, world.grid, phone="13911110000")
    handle_to_close(world, filed.case, closed_at=datetime(2026, 9, 30, 15, 0, tzinfo=SH))
    world.at(datetime(2026, 10, 2, 9, 0, tzinfo=SH))
    services.rating_submit(report=filed, satisfaction="unsatisfied", comment="还是漏水")
    services.reopen_decide(
        request=ReopenRequest.objects.get(case=filed.case), actor=world.u("secretary"),
        approve=False, note="已核实，漏水来自物业管道",
    )  # fmt: skip
    return filed.case_id


def draw(world, **kwargs):
    world.at(DRAW_TIME)
    return callbacks.callback_draw_month(month=OCTOBER, **kwargs)


def test_the_sample_covers_at_least_30_percent_in_every_street_and_every_unsatisfied_case(
    world, october, september_unsatisfied
):
    results = draw(world)
    assert len(results) == 3 and all(created for _d, created in results)
    by_street = {d.street.code: d for d, _created in results}
    for street_code, closed in october["closed"].items():
        drawn = by_street[street_code]
        population = set(drawn.population_ids)
        assert population == set(closed)  # exactly last month's closed cases
        chosen = set(drawn.chosen_ids)
        assert len(chosen & population) >= math.ceil(Decimal("0.30") * len(population))
        assert drawn.share == Decimal("0.30")
        tasks = set(CallbackTask.objects.filter(draw=drawn).values_list("case_id", flat=True))
        assert tasks == chosen
    street1 = by_street["500103001"]
    assert october["unsatisfied"] | {september_unsatisfied} <= set(street1.chosen_ids)
    assert set(street1.required_ids) == october["unsatisfied"] | {september_unsatisfied}
    assert not october["outside"] & set(street1.population_ids)
    reasons = dict(CallbackTask.objects.values_list("case_id", "reason"))
    assert {pk for pk, r in reasons.items() if r == "unsatisfied"} == set(street1.required_ids)
    # 12 closed → at least 4; the 2 unsatisfied count towards them.
    assert len(set(street1.chosen_ids) & set(street1.population_ids)) == 4
    assert len(by_street["500103002"].chosen_ids) == 3  # ceil(0.3 × 7)
    assert len(by_street["500103003"].chosen_ids) == 1  # ceil(0.3 × 1)


def test_ten_cases_at_30_percent_are_exactly_three_not_four():
    chosen = callbacks.callback_sample(
        population=list(range(1, 11)), required=[], share=Decimal("0.30"), seed=7
    )
    assert len(chosen) == 3


def test_the_draw_is_reproducible_from_its_seed_and_ids(world, october):
    results = draw(world)
    for drawn, _created in results:
        again = callbacks.callback_sample(
            population=drawn.population_ids, required=drawn.required_ids, share=drawn.share,
            seed=drawn.seed,
        )  # fmt: skip
        assert again == drawn.chosen_ids
    # Redrawing a street from scratch with the recorded seed gives the same cases.
    street1 = next(d for d, _c in results if d.street.code == "500103001")
    seed, chosen = street1.seed, street1.chosen_ids
    street1.delete()
    redrawn, created = callbacks.callback_draw_month(
        month=OCTOBER, seed=seed, streets=[Area.objects.get(code="500103001")]
    )[0]
    assert created and redrawn.chosen_ids == chosen


def test_the_draw_is_idempotent_per_street_and_month(world, october):
    first = draw(world)
    tasks = CallbackTask.objects.count()
    notifications = Notification.objects.count()
    second = draw(world)
    assert [created for _d, created in second] == [False, False, False]
    assert {d.pk for d, _c in first} == {d.pk for d, _c in second}
    assert CallbackTask.objects.count() == tasks
    assert Notification.objects.count() == notifications
    street = Area.objects.get(code="500103001")
    with pytest.raises(IntegrityError), transaction.atomic():
        CallbackDraw.objects.create(street=street, month=OCTOBER, seed=1, share=Decimal("0.3"))


def test_a_draw_racing_another_worker_keeps_the_first_one(world, october):
    """Two beat ticks on two workers: the one that loses the unique constraint returns the
    winner's draw and creates no tasks."""
    street = Area.objects.get(code="500103003")
    world.at(DRAW_TIME)
    winner = CallbackDraw.objects.create(street=street, month=OCTOBER, seed=1,
                                         share=Decimal("0.30"), chosen_ids=[])  # fmt: skip
    drawn, created = callbacks._draw_street(
        street=street, month=OCTOBER, actor=None, seed=2, closed={1: DRAW_TIME}, unsatisfied={}
    )
    assert (drawn, created) == (winner, False)
    assert not CallbackTask.objects.filter(street=street).exists()


def test_a_street_policy_raises_its_share(world, october):
    street2 = Area.objects.get(code="500103002")
    CallbackPolicy.objects.create(street=street2, share=Decimal("0.50"))
    drawn = next(d for d, _c in draw(world) if d.street == street2)
    assert drawn.share == Decimal("0.50") and len(drawn.chosen_ids) == 4


def test_street_staff_are_told_how_many_calls_to_make(world, october):
    draw(world)
    told = Notification.objects.filter(kind="callbacks_drawn")
    assert {n.recipient.username for n in told} == {"street", "streetleader"}
    assert " 4 " in told.first().title  # 2 sampled + the 2 unsatisfied


def test_only_an_ended_month_can_be_drawn(world):
    world.at(datetime(2026, 10, 31, 23, 0, tzinfo=SH))
    with pytest.raises(ValidationError):
        callbacks.callback_draw_month(month=OCTOBER)


def test_the_command_draws_a_given_month_and_reports_each_street(world, october):
    world.at(DRAW_TIME)
    out = StringIO()
    call_command("draw_callbacks", "--month", "2026-10", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and all("2026-10: drawn" in line for line in lines)
    assert "500103001 解放碑街道 2026-10: drawn, 4 of 12 closed" in lines[0]
    out = StringIO()
    call_command("draw_callbacks", "--month", "2026-10", "--street", "500103002", stdout=out)
    assert "already drawn" in out.getvalue()


@pytest.mark.parametrize(
    "args",
    [["--month", "2026/10"], ["--month", "2026-13"], ["--month", "2999-01"],
     ["--street", "NOPE"]],
)  # fmt: skip
def test_the_command_refuses_bad_arguments(world, args):
    world.at(DRAW_TIME)
    with pytest.raises(CommandError):
        call_command("draw_callbacks", *args, stdout=StringIO())


def test_the_beat_task_draws_last_month_on_the_first(world, october):
    world.at(DRAW_TIME)
    result = draw_callbacks.apply().get()
    assert result == {"month": "2026-10", "streets": 3, "created": 3, "tasks": 4 + 3 + 1}
    assert draw_callbacks.apply().get()["created"] == 0
    entry = django_settings.CELERY_BEAT_SCHEDULE["residents-draw-callbacks"]
    assert entry["task"] == "residents.tasks.draw_callbacks"
    assert entry["schedule"].day_of_month == {1}


# --- recording callbacks ----------------------------------------------------------------------


@pytest.fixture
def task(world):
    """One closed resident case in street 1, drawn for October."""
    world.at(oct_(5, 8))
    filed = report(world, world.grid)
    handle_to_close(world, filed.case, closed_at=oct_(5, 15))
    draw(world)
    return CallbackTask.objects.get(case=filed.case)


def record(client, task, **data):
    return client.post(reverse("residents:callback", args=[task.pk]), data)


def test_street_staff_see_their_callbacks_with_whom_to_call(client, world, task):
    client.force_login(world.u("street"))
    listing = client.get(reverse("residents:callbacks"))
    assert [t.pk for t in listing.context["page"].object_list] == [task.pk]
    page = client.get(reverse("residents:callback", args=[task.pk]))
    assert "王阿姨" in page.content.decode() and "tel:13912345678" in page.content.decode()


def test_a_reached_and_settled_callback_is_done(client, world, task):
    client.force_login(world.u("street"))
    response = record(client, task, reached="yes", settled="yes", satisfaction="satisfied",
                      notes="居民表示已解决")  # fmt: skip
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.reached, task.settled, task.satisfaction) == (
        "done", True, True, "satisfied"
    )  # fmt: skip
    assert task.done_by == world.u("street") and task.attempts == 1 and not task.reopened
    assert task.case.status == CaseStatus.CLOSED
    again = record(client, task, reached="yes", settled="no", satisfaction="unsatisfied")
    assert again.status_code == 409


def test_not_really_settled_reopens_the_case_through_the_service(client, world, task):
    client.force_login(world.u("street"))
    record(client, task, reached="yes", settled="no", satisfaction="unsatisfied",
           notes="对方又开始占用楼道")  # fmt: skip
    task.refresh_from_db()
    assert task.reopened is True
    case = task.case
    assert case.status == CaseStatus.IN_MEDIATION
    event = case.events.get(kind=CaseEvent.Kind.REOPENED)
    assert event.actor == world.u("street") and "对方又开始占用楼道" in event.note


def test_a_resident_not_reached_can_be_called_again(client, world, task):
    client.force_login(world.u("street"))
    record(client, task, reached="no", notes="无人接听")
    task.refresh_from_db()
    assert (task.status, task.attempts, task.reached) == ("unreached", 1, False)
    record(client, task, reached="yes", settled="yes", satisfaction="basically_satisfied",
           notes="第二次接通")  # fmt: skip
    task.refresh_from_db()
    assert (task.status, task.attempts) == ("done", 2)
    assert task.notes == "无人接听\n第二次接通"


@pytest.mark.parametrize(
    "data",
    [{}, {"reached": "maybe"}, {"reached": "yes"}, {"reached": "yes", "settled": "yes"},
     {"reached": "yes", "settled": "yes", "satisfaction": "so-so"}],
)  # fmt: skip
def test_bad_callback_input_is_refused(client, world, task, data):
    client.force_login(world.u("street"))
    response = record(client, task, **data)
    assert response.status_code == 200 and response.context["form"].errors
    task.refresh_from_db()
    assert task.status == "pending" and task.attempts == 0


def test_the_service_refuses_answers_from_a_resident_not_reached(world, task):
    with pytest.raises(ValidationError):
        callbacks.callback_record(task=task, actor=world.u("street"), reached=False,
                                 satisfaction="satisfied")  # fmt: skip


@pytest.fixture
def other_street_staff(world):
    user = UserFactory(username="qxg_street")
    assign(user, Role.STREET_STAFF, Area.objects.get(code="500103002"))
    return user


@pytest.mark.parametrize(
    ("username", "list_status", "detail_status"),
    [("gridworker", 403, 404), ("secretary", 403, 404), ("mediator", 403, 404),
     ("qxg_street", 200, 404), ("district", 200, 200), ("streetleader", 200, 200)],
)  # fmt: skip
def test_only_the_streets_callers_may_see_and_record(
    client, world, task, other_street_staff, username, list_status, detail_status
):
    user = other_street_staff if username == "qxg_street" else world.u(username)
    client.force_login(user)
    assert client.get(reverse("residents:callbacks")).status_code == list_status
    assert client.get(reverse("residents:callback", args=[task.pk])).status_code == detail_status
    response = record(client, task, reached="yes", settled="no", satisfaction="unsatisfied")
    task.refresh_from_db()
    if detail_status == 404:
        assert response.status_code == 404 and task.status == "pending"
    else:
        assert task.status == "done"


def test_the_service_checks_the_caller_too(world, task):
    with pytest.raises(services.PermissionDenied):
        callbacks.callback_record(task=task, actor=world.u("gridworker"), reached=False)


def test_the_callback_list_has_a_fixed_number_of_queries(
    client, world, october, django_assert_max_num_queries
):
    draw(world)
    client.force_login(world.u("street"))
    with django_assert_max_num_queries(8):
        response = client.get(reverse("residents:callbacks"), {"status": "all"})
    assert len(response.context["page"].object_list) == 4


# --- the API ------------------------------------------------------------------------------------


def test_the_api_lists_and_records_callbacks(client, world, task, django_assert_max_num_queries):
    client.force_login(world.u("street"))
    with django_assert_max_num_queries(6):
        listing = client.get("/api/v1/residents/callbacks/")
    assert listing.status_code == 200 and listing.json()["results"][0]["id"] == task.pk
    url = f"/api/v1/residents/callbacks/{task.pk}/record/"
    bad = client.post(url, {"reached": True}, content_type="application/json")
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"settled", "satisfaction"}
    ok = client.post(url, {"reached": True, "settled": False, "satisfaction": "unsatisfied"},
                     content_type="application/json")  # fmt: skip
    assert ok.status_code == 200 and ok.json()["reopened"] is True
    again = client.post(url, {"reached": False}, content_type="application/json")
    assert again.status_code == 409 and again.json()["detail"]


def test_the_api_hides_other_streets_callbacks(client, world, task, other_street_staff):
    client.force_login(other_street_staff)
    assert client.get("/api/v1/residents/callbacks/").json()["results"] == []
    url = f"/api/v1/residents/callbacks/{task.pk}/record/"
    assert client.post(url, {"reached": False}, content_type="application/json").status_code == 404
    client.force_login(world.u("gridworker"))
    assert client.get("/api/v1/residents/callbacks/").status_code == 403
    client.logout()
    assert client.get("/api/v1/residents/callbacks/").status_code in (401, 403)


def test_last_month_is_counted_in_local_time(world):
    world.at(datetime(2026, 12, 1, 0, 30, tzinfo=SH))  # still 30 November in UTC
    assert callbacks.previous_month() == datetime(2026, 11, 1).date()


def test_a_callback_is_recorded_on_the_case_timeline(world, task):
    callbacks.callback_record(task=task, actor=world.u("street"), reached=True, settled=True,
                              satisfaction="satisfied", notes="很满意")  # fmt: skip
    event = task.case.events.get(kind="callback")
    assert (event.actor, event.note) == (world.u("street"), "很满意")
    assert event.data["reached"] is True and event.data["satisfaction"] == "satisfied"

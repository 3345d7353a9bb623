"""Correcting an open case's record (更正): address, description, parties, area and type, with
a reason; the timeline keeps each field before and after; a new type or area re-routes the
case and keeps its deadlines unless the level above applies the new type's time limits.

Scenario (the demo district, see test_api.py): a leaking ceiling (房屋漏水, a community
type) filed by the grid worker of 民生路社区 grid 1, handled by the community (secretary,
mediator); 解放碑街道's centre (street) is the level above. The grid worker of another
street is the outsider; the judge sees the case but has no part in it. Races on PostgreSQL
are in test_correction_races.py."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from common.errors import StateConflict
from disputes import services
from disputes.models import Case, CaseEvent, Category, Party, PartyDisclosure
from grids.models import Area, Role
from notifications.models import Notification
from sla.models import SlaCheck, SlaPolicy
from tests.disputes.test_api import (  # noqa: F401  (seeded: the demo district, once)
    PHONE,
    VALID_ID,
    World,
    assert_error_body,
    case_in,
    client_for,
    file_case,
    seeded,
)
from tests.factories import UserFactory, assign

pytestmark = pytest.mark.django_db
K = CaseEvent.Kind
SHANGHAI = ZoneInfo("Asia/Shanghai")
FILED_AT = datetime(2027, 3, 1, 9, 0, tzinfo=SHANGHAI)  # a Monday morning, after the seed
OLD_ADDRESS = "民生路12号3单元502"


@pytest.fixture
def w(seeded, db):  # noqa: F811
    return seeded


def correct(actor, case, **changes):
    changes.setdefault("reason", "网格员录入有误")
    return services.case_correct(case=Case.objects.get(pk=case.pk), actor=actor, **changes)


def post(user, case, payload):
    return client_for(user).post(f"/api/v1/cases/{case.pk}/correct/", payload, format="json")


def last_event(case) -> CaseEvent:
    return CaseEvent.objects.filter(case=case).latest("id")


def changes_of(event) -> dict:
    return {c["field"]: (c["from"], c["to"]) for c in event.data["changes"]}


def other_community_grid() -> Area:
    return Area.objects.get(code="500103001002G01")  # 五一路社区第1网格, same street


def snapshot(case) -> tuple:
    case = Case.objects.get(pk=case.pk)
    parties = sorted(Party.objects.filter(case=case).values_list("name", "phone", "id_number"))
    return (
        case.address, case.description, case.area_id, case.category_id, case.handling_area_id,
        case.handling_level, case.lead_department_id, case.sla_policy_id, case.assign_due_at,
        case.close_due_at, case.updated_at, parties,
        CaseEvent.objects.filter(case=case).count(),
        Notification.objects.filter(case=case).count(),
    )  # fmt: skip


# --- each field, before and after -------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("address", "民生路14号3单元502"), ("description", "楼上卫生间防水层老化，漏水至楼下客厅")],
)
def test_it_corrects_a_text_field_with_the_reason_and_its_before_and_after(w, field, value):
    case = file_case(w)
    before = getattr(case, field)

    case = correct(w.secretary, case, **{field: value}, reason="门牌号听错")

    assert getattr(Case.objects.get(pk=case.pk), field) == value
    event = last_event(case)
    assert (event.kind, event.actor, event.note) == (K.CORRECTED, w.secretary, "门牌号听错")
    assert changes_of(event) == {field: (before, value)}
    assert (event.from_status, event.to_status) == ("filed", "filed")
    assert CaseEvent.objects.filter(case=case, kind=K.CORRECTED).count() == 1


def test_it_corrects_the_parties_added_removed_and_changed_in_one_event(w):
    case = file_case(w)
    li, wang = (Party.objects.get(case=case, name=n) for n in ("李秀英", "王强"))

    correct(
        w.mediator,
        case,
        parties=[
            {"id": li.pk, "side": "applicant", "name": "李秀英", "phone": "13900001111",
             "id_number": VALID_ID, "address": "民生路12号3单元402"},
            {"side": "respondent", "name": "王大强", "phone": "023-63881234"},
        ],
    )  # fmt: skip

    parties = {p.name: p for p in Party.objects.filter(case=case)}
    assert set(parties) == {"李秀英", "王大强"}
    assert parties["李秀英"].pk == li.pk
    assert (parties["李秀英"].phone, parties["李秀英"].address) == (
        "13900001111",
        "民生路12号3单元402",
    )
    assert not Party.objects.filter(pk=wang.pk).exists()
    data = last_event(case).data
    assert data["changes"] == []
    assert data["parties"]["added"] == [{"side": "respondent", "name": "王大强"}]
    assert data["parties"]["removed"] == [{"id": wang.pk, "side": "respondent", "name": "王强"}]
    [changed] = data["parties"]["changed"]
    assert changed["name"] == "李秀英"
    fields = {f["field"]: (f["from"], f["to"]) for f in changed["fields"]}
    # Phone numbers stay masked on the timeline, which everyone who sees the case reads.
    assert fields == {
        "phone": ("139****5678", "139****1111"),
        "address": ("", "民生路12号3单元402"),
    }


def test_the_timeline_never_keeps_a_full_phone_or_id_number(w):
    case = file_case(w)
    li = Party.objects.get(case=case, name="李秀英")

    correct(
        w.secretary,
        case,
        parties=[{"id": li.pk, "side": "applicant", "name": "李秀英", "phone": "13900001111",
                  "id_number": ""}],
    )  # fmt: skip

    data = last_event(case).data
    text = json.dumps(data, ensure_ascii=False)
    assert VALID_ID not in text and "13900001111" not in text and PHONE not in text
    fields = {f["field"]: (f["from"], f["to"]) for f in data["parties"]["changed"][0]["fields"]}
    assert fields["id_number"] == ("110***********002X", "")


def test_it_corrects_the_type_and_reroutes_keeping_the_deadlines(w):
    case = file_case(w)  # 房屋漏水: the community handles it
    assert case.handling_area == w.community
    due = (case.assign_due_at, case.close_due_at, case.sla_policy_id)
    stairs = w.categories["0201"]  # 楼道堆物: "small matters stay in the grid"

    case = correct(w.secretary, case, category=stairs)

    case = Case.objects.get(pk=case.pk)
    assert (case.category, case.handling_level, case.handling_area) == (stairs, "grid", w.grid)
    assert (case.assign_due_at, case.close_due_at, case.sla_policy_id) == due
    event = last_event(case)
    assert changes_of(event) == {
        "category": (str(w.categories["0203"]), str(stairs)),
        "handling_area": (w.community.name, w.grid.name),
        "handling_level": ("community", "grid"),
    }
    assert (event.data["rerouted"], event.data["new_time_limits"]) == (True, False)


def test_it_corrects_the_area_and_moves_the_case_to_that_community(w):
    case = file_case(w)
    target = other_community_grid()

    case = correct(w.street, case, area=target)

    case = Case.objects.get(pk=case.pk)
    assert case.area == target
    community = Area.objects.get(code="500103001002")
    assert case.handling_area == community
    assert (case.community_id, case.grid_id) == (community.pk, target.pk)
    assert changes_of(last_event(case))["area"] == (w.grid.name, target.name)
    assert changes_of(last_event(case))["handling_area"] == (w.community.name, "五一路社区")
    # The community the case left no longer sees it; the new one does.
    assert not Case.objects.visible_to(w.secretary).filter(pk=case.pk).exists()


def test_a_new_type_with_a_lead_department_brings_it_and_a_dispatched_one_stays(w):
    case = correct(w.secretary, file_case(w), category=w.categories["1001"])
    assert Case.objects.get(pk=case.pk).lead_department == w.hrss

    case = case_in(w, "in_mediation")
    services.case_dispatch(case=case, actor=w.secretary, department=w.hrss, note="请人社局协助")
    case = correct(w.secretary, case, category=w.categories["0201"])
    assert Case.objects.get(pk=case.pk).lead_department == w.hrss


def test_an_escalated_case_stays_at_the_level_it_reached(w):
    case = file_case(w)
    services.case_escalate(case=case, actor=w.secretary, reason="社区调解不成")
    street = Case.objects.get(pk=case.pk).handling_area
    assert street.level == "street"

    case = correct(w.street, case, category=w.categories["0201"])  # a grid type

    case = Case.objects.get(pk=case.pk)
    assert (case.handling_level, case.handling_area) == ("street", street)
    assert "handling_area" not in changes_of(last_event(case))


def test_the_mediator_and_the_status_stay_when_the_unit_changes(w):
    case = case_in(w, "in_mediation")
    case = correct(w.street, case, area=other_community_grid())
    case = Case.objects.get(pk=case.pk)
    assert (case.status, case.mediator) == ("in_mediation", w.mediator)


def test_it_tells_the_unit_the_mediator_and_the_filer_never_the_actor(w):
    case = case_in(w, "assigned")
    Notification.objects.all().delete()

    correct(w.street, case, address="民生路14号")

    told = set(Notification.objects.filter(case=case, kind="case_corrected").values_list(
        "recipient__username", flat=True))  # fmt: skip
    assert {"secretary", "mediator", "gridworker"} <= told
    assert "street" not in told


def test_a_move_tells_the_unit_the_case_left(w):
    case = file_case(w)
    Notification.objects.all().delete()
    correct(w.street, case, area=other_community_grid())
    left = Notification.objects.get(case=case, recipient=w.secretary)
    assert "五一路社区" in left.title


# --- the new type's time limits (the level above only) --------------------------------------


@pytest.fixture
def stairs_policy(w):
    return SlaPolicy.objects.create(
        code="stairs", name="楼道堆物快办", category=w.categories["0201"], priority=10,
        assign_within_hours=12, first_update_within_hours=6, close_within_days=10,
    )  # fmt: skip


def test_the_level_above_applies_the_new_types_time_limits_from_the_filing(w, stairs_policy):
    with time_machine.travel(FILED_AT, tick=False):
        case = file_case(w)
    old_policy = case.sla_policy
    with time_machine.travel(FILED_AT + timedelta(hours=2), tick=False):
        correct(w.street, case, category=w.categories["0201"], apply_new_limits=True)

    case = Case.objects.get(pk=case.pk)
    assert case.sla_policy == stairs_policy
    assert case.assign_due_at == FILED_AT + timedelta(hours=12)
    assert case.close_due_at == FILED_AT + timedelta(days=10)
    event = last_event(case)
    assert event.data["new_time_limits"] is True
    assert changes_of(event)["sla_policy"] == (str(old_policy), str(stairs_policy))
    assert {"assign_due_at", "close_due_at"} <= set(changes_of(event))
    # The sweep looks at the case again at its new nearest moment: the assignment's warning
    # (75 % of the new 12-hour limit).
    assert SlaCheck.objects.get(case=case).next_check_at == FILED_AT + timedelta(hours=9)


def test_new_limits_count_first_handling_from_the_assignment_and_leave_done_steps(w, stairs_policy):
    with time_machine.travel(FILED_AT, tick=False):
        case = file_case(w)
    with time_machine.travel(FILED_AT + timedelta(hours=30), tick=False):  # assigned late
        services.case_assign(case=case, mediator=w.mediator, actor=w.secretary)
    before = Case.objects.get(pk=case.pk)
    with time_machine.travel(FILED_AT + timedelta(hours=31), tick=False):
        correct(w.street, case, category=w.categories["0201"], apply_new_limits=True)

    case = Case.objects.get(pk=case.pk)
    assert case.assign_due_at == before.assign_due_at  # done: its deadline is history
    assert case.assigned_on_time is False
    assert case.first_update_due_at == FILED_AT + timedelta(hours=36)
    # The late assignment was recorded before anything moved.
    assert CaseEvent.objects.filter(
        case=case, kind=K.SLA_BREACH, data__reason="not_assigned"
    ).exists()


def test_new_limits_replay_an_approved_extension_and_count_assignment_from_an_escalation(
    w, stairs_policy
):
    with time_machine.travel(FILED_AT, tick=False):
        extended = case_in(w, "in_mediation")
        escalated = file_case(w)
    with time_machine.travel(FILED_AT + timedelta(hours=3), tick=False):
        request = services.extension_request(
            case=extended, actor=w.mediator, days=10, reason="当事人外出"
        )
        services.extension_decide(extension=request, actor=w.street, approve=True)
        services.case_escalate(case=escalated, actor=w.secretary, reason="社区调解不成")
    assert Case.objects.get(pk=extended.pk).close_due_at == FILED_AT + timedelta(days=40)
    with time_machine.travel(FILED_AT + timedelta(hours=4), tick=False):
        correct(w.street, extended, category=w.categories["0201"], apply_new_limits=True)
        correct(w.district, escalated, category=w.categories["0201"], apply_new_limits=True)

    # 10 days under the new type, then the 10 days the street granted.
    assert Case.objects.get(pk=extended.pk).close_due_at == FILED_AT + timedelta(days=20)
    # The street's own assignment clock started when the case was escalated to it.
    escalated = Case.objects.get(pk=escalated.pk)
    assert escalated.assign_due_at == FILED_AT + timedelta(hours=3 + 12)
    assert escalated.close_due_at == FILED_AT + timedelta(days=10)


def test_a_new_deadline_already_past_is_left_for_the_sweep_to_record(w, stairs_policy):
    with time_machine.travel(FILED_AT, tick=False):
        case = file_case(w)
    with time_machine.travel(FILED_AT + timedelta(hours=13), tick=False):
        correct(w.street, case, category=w.categories["0201"], apply_new_limits=True)
    check = SlaCheck.objects.get(case=case)
    assert check.breached_assign is False
    # Due at once: the new limit's warning time (75 % of 12 h) has passed, and its deadline.
    assert check.next_check_at == FILED_AT + timedelta(hours=9)


def test_without_the_tick_the_new_type_keeps_the_policy_pinned_at_filing(w, stairs_policy):
    case = file_case(w)
    pinned = (case.sla_policy_id, case.assign_due_at, case.close_due_at)
    correct(w.street, case, category=w.categories["0201"])
    case = Case.objects.get(pk=case.pk)
    assert (case.sla_policy_id, case.assign_due_at, case.close_due_at) == pinned


def test_only_the_level_above_may_apply_the_new_limits(w, stairs_policy):
    case = file_case(w)
    before = snapshot(case)
    with pytest.raises(PermissionDenied):
        correct(w.secretary, case, category=w.categories["0201"], apply_new_limits=True)
    assert snapshot(case) == before
    response = post(
        w.mediator, case, {"reason": "类型有误", "category": w.categories["0201"].pk,
                           "apply_new_limits": True},
    )  # fmt: skip
    assert_error_body(response, 403)
    assert snapshot(case) == before


def test_the_new_limits_need_a_new_type(w):
    case = file_case(w)
    body = assert_error_body(
        post(w.street, case, {"reason": "时限", "address": "民生路14号", "apply_new_limits": True}),
        400,
    )
    assert "apply_new_limits" in body["errors"]


# --- who may -------------------------------------------------------------------------------------


def test_the_filer_may_correct_until_the_case_is_taken_up(w):
    case = file_case(w)
    assert (
        post(w.gridworker, case, {"reason": "补门牌", "address": "民生路14号"}).status_code == 200
    )
    services.case_accept(case=case, actor=w.secretary)
    assert_error_body(post(w.gridworker, case, {"reason": "再改", "address": "民生路16号"}), 403)


def test_the_filer_may_correct_a_case_sent_back_to_them(w):
    case = case_in(w, "sent_back")
    response = post(w.gridworker, case, {"reason": "补充地址", "address": "民生路12号3单元502室"})
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("who", "status"),
    [("gridworker2", 404),  # a grid worker of another street: cannot see it
     ("judge", 403),  # sees the community's cases, has no part in this one
     ("labour", 404)],  # a department liaison, no task on it
)  # fmt: skip
def test_people_without_a_part_may_not_correct(w, who, status):
    case = case_in(w, "assigned")
    before = snapshot(case)
    assert_error_body(post(w.users[who], case, {"reason": "改", "address": "别处"}), status)
    assert snapshot(case) == before


def test_a_grid_worker_of_another_grid_may_not_see_it(w):
    neighbour = UserFactory()
    assign(neighbour, Role.GRID_WORKER, w.grid2)
    case = case_in(w, "assigned")
    assert_error_body(post(neighbour, case, {"reason": "改", "address": "别处"}), 404)


def test_the_mediator_of_another_case_or_an_assistant_may_not_correct_this_one(w):
    theirs = file_case(w)
    services.case_assign(case=theirs, mediator=w.lawyer, actor=w.secretary, assistants=[w.police])
    case = case_in(w, "assigned")
    before, before_theirs = snapshot(case), snapshot(theirs)
    assert_error_body(post(w.lawyer, case, {"reason": "改", "address": "别处"}), 403)
    # An assistant on a case helps; the record is not theirs to correct.
    assert_error_body(post(w.police, theirs, {"reason": "改", "address": "别处"}), 403)
    assert (snapshot(case), snapshot(theirs)) == (before, before_theirs)
    # Their own case's mediator may.
    assert post(w.lawyer, theirs, {"reason": "改", "address": "别处"}).status_code == 200


# --- bad input: a clear error, nothing saved -------------------------------------------------


BAD = [
    ("reason", {"reason": "  ", "address": "民生路14号"}),
    ("area", {"area": "other_community"}),
    ("category", {"category": "parent"}),
    ("parties", {"parties": [{"side": "applicant", "name": "李秀英", "phone": "12345"}]}),
    ("parties", {"parties": [{"side": "applicant", "name": "李秀英"},
                             {"side": "respondent", "name": "", "phone": "13800002222"}]}),
    ("parties", {"parties": [{"side": "applicant", "name": "李秀英", "id_number": "110105"}]}),
    ("parties", {"parties": [{"side": "respondent", "name": "王强"}]}),  # no applicant left
    ("parties", {"parties": [{"id": 999999, "side": "applicant", "name": "李秀英"}]}),
    ("address", {"address": "   "}),
    ("non_field_errors", {"address": OLD_ADDRESS}),  # nothing changed
]  # fmt: skip


@pytest.mark.parametrize(
    ("field", "payload"), BAD, ids=[f"{f}-{i}" for i, (f, _p) in enumerate(BAD)]
)
def test_bad_input_is_refused_with_a_clear_error_and_nothing_saved(w, field, payload):
    case = file_case(w)
    payload = {"reason": "录入有误"} | payload
    if payload.get("area") == "other_community":
        payload["area"] = other_community_grid().pk  # outside the secretary's community
    if payload.get("category") == "parent":
        payload["category"] = w.categories["02"].pk  # a first-level type
    before = snapshot(case)

    body = assert_error_body(post(w.secretary, case, payload), 400)

    assert field in body["errors"], body
    assert all(body["errors"][field])
    assert snapshot(case) == before


def test_a_type_no_longer_in_use_is_refused(w):
    case = file_case(w)
    retired = Category.objects.create(code="0299", name="旧类型", parent=w.categories["02"],
                                      is_active=False)  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        correct(w.secretary, case, category=retired)
    assert "category" in caught.value.message_dict


@pytest.mark.parametrize("state", ["closed", "resolved"])
def test_a_case_no_longer_open_is_a_conflict(w, state):
    case = case_in(w, state)
    before = snapshot(case)
    body = assert_error_body(post(w.secretary, case, {"reason": "改", "address": "别处"}), 409)
    assert body["detail"]
    assert snapshot(case) == before


def test_a_withdrawn_case_is_a_conflict_for_the_service_too(w):
    case = file_case(w)
    services.case_withdraw(case=case, actor=w.secretary, reason="已和解")
    with pytest.raises(StateConflict):
        correct(w.secretary, case, address="别处")


def test_a_case_changed_since_the_corrector_read_it_is_a_conflict(w):
    case = file_case(w)
    seen = client_for(w.secretary).get(f"/api/v1/cases/{case.pk}/").json()["updated_at"]
    correct(w.street, case, description="补充情况")
    before = snapshot(case)

    response = post(
        w.secretary, case, {"reason": "改", "address": "别处", "expected_updated_at": seen}
    )

    assert_error_body(response, 409)
    assert snapshot(case) == before


# --- the API ---------------------------------------------------------------------------------


def test_the_api_corrects_and_answers_the_case_with_the_event(w):
    case = file_case(w)
    seen = client_for(w.secretary).get(f"/api/v1/cases/{case.pk}/").json()["updated_at"]
    li, wang = (Party.objects.get(case=case, name=n) for n in ("李秀英", "王强"))

    response = post(
        w.secretary,
        case,
        {"reason": "核实后更正", "address": "民生路14号", "category": w.categories["0201"].pk,
         "expected_updated_at": seen,
         "parties": [{"id": li.pk, "side": "applicant", "name": "李秀英", "phone": PHONE,
                      "id_number": VALID_ID}]},
    )  # fmt: skip

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["address"], body["category"]["code"], body["handling_level"]) == (
        "民生路14号", "0201", "grid"
    )  # fmt: skip
    event = body["events"][-1]
    assert (event["kind"], event["kind_label"], event["note"]) == (
        "corrected",
        "已更正",
        "核实后更正",
    )
    fields = {c["field"]: (c["from"], c["to"]) for c in event["data"]["changes"]}
    assert fields["address"] == (OLD_ADDRESS, "民生路14号")
    assert event["data"]["parties"]["removed"] == [
        {"id": wang.pk, "side": "respondent", "name": "王强"}
    ]


def test_the_api_correction_takes_a_fixed_number_of_queries(w, django_assert_max_num_queries):
    case = case_in(w, "assigned")
    payload = {"reason": "核实后更正", "address": "民生路14号", "category": w.categories["0201"].pk}
    with django_assert_max_num_queries(36):
        response = post(w.street, case, payload)
    assert response.status_code == 200, response.content


# --- the pages -------------------------------------------------------------------------------


def page_client(client, user):
    client.force_login(user)
    return client


def form_post(case, **overrides) -> dict:
    """What the correction page sends with nothing changed but the reason."""
    parties = list(Party.objects.filter(case=case))
    data = {
        "area": case.area_id,
        "category": case.category_id,
        "address": case.address,
        "description": case.description,
        "reason": "核实后更正",
        "expected_updated_at": Case.objects.get(pk=case.pk).updated_at.isoformat(),
        "parties-TOTAL_FORMS": str(len(parties)),
        "parties-INITIAL_FORMS": str(len(parties)),
        "parties-MIN_NUM_FORMS": "1",
        "parties-MAX_NUM_FORMS": "50",
    }
    for i, p in enumerate(parties):
        for field in ("side", "kind", "name", "phone", "id_number", "address", "relationship"):
            data[f"parties-{i}-{field}"] = getattr(p, field)
        data[f"parties-{i}-id"] = p.pk
    return data | overrides


def test_the_case_page_offers_the_correction_to_those_who_may(w, client):
    case = file_case(w)
    url = reverse("disputes:correct", args=[case.pk])
    html = page_client(client, w.secretary).get(reverse("disputes:detail", args=[case.pk]))
    assert url in html.content.decode()
    html = page_client(client, w.judge).get(reverse("disputes:detail", args=[case.pk]))
    assert url not in html.content.decode()


def test_the_correction_page_shows_the_case_as_it_is_and_records_the_view(w, client):
    case = file_case(w)
    response = page_client(client, w.secretary).get(reverse("disputes:correct", args=[case.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert OLD_ADDRESS in html and "李秀英" in html and PHONE in html and VALID_ID in html
    assert 'name="parties-0-id"' in html
    # The party details are shown in full to edit them: recorded like any other view.
    assert PartyDisclosure.objects.filter(case=case, user=w.secretary, channel="page").exists()
    # Only the level above may apply new time limits.
    assert "apply_new_limits" not in html
    street = page_client(client, w.street).get(reverse("disputes:correct", args=[case.pk]))
    assert "apply_new_limits" in street.content.decode()


def test_the_page_corrects_and_the_timeline_shows_before_and_after_in_chinese(w, client):
    case = file_case(w)
    page_client(client, w.secretary)
    response = client.post(
        reverse("disputes:correct", args=[case.pk]),
        form_post(case, address="民生路14号3单元502", category=w.categories["0201"].pk),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("disputes:detail", args=[case.pk])

    html = client.get(response["Location"]).content.decode()
    assert "已更正" in html
    assert "<del>民生路12号3单元502</del> → <ins" in html
    assert "民生路14号3单元502</ins>" in html
    assert "纠纷类型" in html and "承办单位" in html
    assert "正在计时的期限不变" in html


def test_the_page_removes_a_cleared_party_and_adds_a_new_one(w, client):
    case = file_case(w)
    page_client(client, w.secretary)
    data = form_post(case)
    wang = next(i for i in range(2) if data[f"parties-{i}-name"] == "王强")
    for field in ("name", "phone", "id_number", "address", "relationship"):
        data[f"parties-{wang}-{field}"] = ""
    data |= {"parties-TOTAL_FORMS": "3", "parties-2-side": "respondent",
             "parties-2-kind": "organisation", "parties-2-name": "某物业公司"}  # fmt: skip

    response = client.post(reverse("disputes:correct", args=[case.pk]), data)

    assert response.status_code == 302
    assert sorted(Party.objects.filter(case=case).values_list("name", flat=True)) == [
        "李秀英", "某物业公司"
    ]  # fmt: skip
    html = client.get(response["Location"]).content.decode()
    assert "新增当事人" in html and "删除当事人" in html


def test_the_page_refuses_bad_input_and_keeps_what_was_typed(w, client):
    case = file_case(w)
    before = snapshot(case)
    page_client(client, w.secretary)
    response = client.post(
        reverse("disputes:correct", args=[case.pk]),
        form_post(case, reason="", address="民生路14号", **{"parties-0-phone": "12345"}),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "民生路14号" in html
    assert "invalid-feedback" in html
    assert snapshot(case) == before


def test_the_page_says_nothing_changed(w, client):
    case = file_case(w)
    page_client(client, w.secretary)
    response = client.post(reverse("disputes:correct", args=[case.pk]), form_post(case))
    assert response.status_code == 200
    assert 'data-testid="form-errors"' in response.content.decode()
    assert not CaseEvent.objects.filter(case=case, kind=K.CORRECTED).exists()


def test_a_stale_page_is_a_conflict_and_shows_the_case_as_it_is_now(w, client):
    case = file_case(w)
    page_client(client, w.secretary)
    stale = form_post(case, address="民生路14号")
    correct(w.street, case, description="楼上卫生间漏水已三天")

    response = client.post(reverse("disputes:correct", args=[case.pk]), stale)

    assert response.status_code == 409
    html = response.content.decode()
    assert 'data-testid="correction-error"' in html
    assert "楼上卫生间漏水已三天" in html  # the form starts again from the case as it is
    assert Case.objects.get(pk=case.pk).address == OLD_ADDRESS


@pytest.mark.parametrize(("who", "status"), [("gridworker2", 404), ("judge", 403)])
def test_the_page_is_refused_to_people_without_a_part(w, client, who, status):
    case = case_in(w, "assigned")
    response = page_client(client, w.users[who]).get(reverse("disputes:correct", args=[case.pk]))
    assert response.status_code == status
    assert not PartyDisclosure.objects.filter(case=case).exists()


def test_the_page_of_a_closed_case_goes_back_to_the_case_with_a_message(w, client):
    case = case_in(w, "closed")
    response = page_client(client, w.secretary).get(reverse("disputes:correct", args=[case.pk]))
    assert response.status_code == 302
    follow = client.get(response["Location"]).content.decode()
    assert "暂不能更正" in follow


def test_the_old_action_url_leads_to_the_page(w, client):
    case = file_case(w)
    response = page_client(client, w.secretary).post(
        reverse("disputes:action", args=[case.pk, "correct"]), {"reason": "x"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("disputes:correct", args=[case.pk])


def test_the_correction_page_takes_a_fixed_number_of_queries(
    w, client, django_assert_max_num_queries
):
    small = file_case(w, parties=[{"side": "applicant", "name": "李秀英"}])
    big = file_case(
        w, parties=[{"side": "applicant", "name": f"申请人{i}", "phone": PHONE} for i in range(12)]
    )
    page_client(client, w.street)
    counts = []
    for case in (small, big):
        with django_assert_max_num_queries(13) as captured:
            response = client.get(reverse("disputes:correct", args=[case.pk]))
        assert response.status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]

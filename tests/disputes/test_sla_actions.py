"""Issue 4 on the case page, the case list and the API: escalate, raise the risk, dispatch
(发令), extensions, the judicial-confirmation pause, the deadlines and colours users see.

Scenario (the demo district): a leaking-ceiling dispute filed by the grid worker of 民生路社区
grid 1 and handled by the community (secretary and mediator run it; the street and district
centres above may too, and only they decide extensions). The judge paired with the community
may see it but not act on it; the grid worker of another street is the outsider; 吴人社 is the
labour bureau's liaison."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from disputes import actions, permissions, selectors, services
from disputes.demo import seed_categories
from disputes.models import Case, CaseEvent, CaseStatus, Category
from grids.demo import seed as seed_demo
from grids.models import Area, Department, User
from notifications.models import Notification
from sla import clock
from sla.models import SlaPolicy

pytestmark = pytest.mark.django_db

S = CaseStatus
K = CaseEvent.Kind
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
# Tomorrow 09:00 in Chongqing: after the demo people's assignments start (they are seeded at
# the real time), so they hold their roles at every moment the tests move the clock to.
T0 = (datetime.now(ZoneInfo("Asia/Shanghai")) + DAY).replace(
    hour=9, minute=0, second=0, microsecond=0
)


def shown(moment: datetime) -> str:
    """How the pages print a time."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class World:
    def __init__(self):
        self.users = {u.username: u for u in User.objects.all()}
        self.grid = Area.objects.get(code="500103001001G01")
        self.community = Area.objects.get(code="500103001001")
        self.street_area = Area.objects.get(code="500103001")
        self.categories = {c.code: c for c in Category.objects.all()}
        self.hrss = Department.objects.get(code="HRSS")

    def __getattr__(self, username):
        try:
            return self.__dict__["users"][username]
        except KeyError:
            raise AttributeError(username) from None

    def fresh(self, username) -> User:
        """A user object without the cached scope, as a new request would have."""
        return User.objects.get(username=username)


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The demo district, seeded once for the module in an outer transaction that each test's
    own (rolled back) transaction nests in."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            seed_demo()
            seed_categories()
            yield World()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def w(seeded, db):
    return seeded


def file_case(w: World, **extra) -> Case:
    kwargs = {
        "actor": w.gridworker,
        "area": w.grid,
        "category": w.categories["0203"],
        "cause": "楼上卫生间漏水至楼下",
        "address": "民生路12号3单元502",
        "channel": "grid_worker",
        "parties": [{"side": "applicant", "name": "李秀英", "phone": "13912345678"}],
    }
    return services.case_file(**(kwargs | extra))


def judicial_policy(w: World) -> SlaPolicy:
    """A policy for leaks that stops the closing clock during judicial confirmation."""
    policy, _created = SlaPolicy.objects.get_or_create(
        code="leak-judicial",
        version=1,
        defaults={"name": "漏水（司法确认期间暂停计时）", "category": w.categories["0203"],
                  "pause_for_judicial_review": True},
    )  # fmt: skip
    return policy


def _assign(c, w):
    return services.case_assign(case=c, mediator=w.mediator, actor=w.secretary)


def _progress(c, w):
    return services.case_progress(case=c, actor=w.mediator, note="上门查看")


def _close(c, w):
    c = services.case_record_outcome(case=c, actor=w.mediator, outcome="agreement")
    c = services.case_resolve(case=c, actor=w.mediator)
    return services.case_close(case=c, actor=w.secretary)


def _request(c, w):
    services.extension_request(case=c, actor=w.mediator, days=15, reason="当事人外出务工")
    return c


def _refuse(c, w):
    services.extension_decide(extension=c.extensions.get(), actor=w.street, approve=False)
    return c


def _pause(c, w):
    return services.case_pause_clock(case=c, actor=w.mediator, note="已申请司法确认")


# Each state: (set-up before filing, filing overrides, steps after filing).
STATES: dict[str, tuple[Callable | None, dict, list[Callable]]] = {
    "filed": (None, {}, []),
    "sent_back": (None, {}, [lambda c, w: services.case_send_back(
        case=c, actor=w.secretary, reason="地址不全")]),
    "assigned": (None, {}, [_assign]),
    "in_mediation": (None, {}, [_assign, _progress]),
    "pending": (None, {}, [_assign, _progress, _request]),
    "decided": (None, {}, [_assign, _progress, _request, _refuse]),
    "pausable": (judicial_policy, {}, [_assign, _progress]),
    "paused": (judicial_policy, {}, [_assign, _progress, _pause]),
    "closed": (None, {}, [_assign, _progress, _close]),
    "closed_pending": (None, {}, [_assign, _progress, _request, _close]),
    "serious": (None, {"risk_level": "serious"}, []),  # at the district: nowhere higher
}  # fmt: skip


def case_in(w: World, state: str) -> Case:
    before, overrides, steps = STATES[state]
    if before:
        before(w)
    case = file_case(w, **overrides)
    for step in steps:
        case = step(case, w)
    return Case.objects.get(pk=case.pk)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def snapshot(case: Case) -> tuple:
    case = Case.objects.get(pk=case.pk)
    return (
        case.status, case.updated_at, case.handling_area_id, case.risk_level,
        case.lead_department_id, case.assign_due_at, case.close_due_at, case.clock_paused_at,
        CaseEvent.objects.filter(case=case).count(),
        sorted(case.extensions.values_list("pk", "status")),
    )  # fmt: skip


def assert_error_body(response, status_code: int) -> dict:
    assert response.status_code == status_code, response.content
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert body["detail"]
    return body


# --- the API: one endpoint per action ---------------------------------------------------------


@dataclass
class Action:
    name: str
    ready: str
    actor: str
    good: Callable[[World], dict]
    bad: Callable[[World], dict]
    bad_field: str
    event: str
    illegal: str
    check: Callable[[Case, World], bool]
    success: int = 200

    def url(self, case: Case) -> str:
        return f"/api/v1/cases/{case.pk}/{self.name}/"


ACTIONS = [
    Action("escalate", "assigned", "mediator", lambda w: {"reason": "社区调解不成"},
           lambda w: {"reason": "  "}, "reason", K.ESCALATED, "closed",
           lambda c, w: c.handling_area == w.street_area and c.status == S.FILED),
    Action("raise-risk", "filed", "secretary",
           lambda w: {"risk_level": "major", "reason": "十余户聚集"},
           lambda w: {"risk_level": "ordinary", "reason": "十余户聚集"}, "risk_level",
           K.RISK_RAISED, "closed", lambda c, w: c.risk_level == "major"),
    Action("dispatch", "filed", "district",
           lambda w: {"department": w.hrss.pk, "note": "请人社局牵头"},
           lambda w: {"department": w.hrss.pk, "note": ""}, "note", K.DISPATCHED, "closed",
           lambda c, w: c.lead_department == w.hrss),
    Action("request-extension", "in_mediation", "mediator",
           lambda w: {"days": 15, "reason": "当事人外出务工"},
           lambda w: {"days": 0, "reason": "当事人外出务工"}, "days",
           K.EXTENSION_REQUESTED, "pending",
           lambda c, w: c.extensions.get().status == "pending", success=201),
    Action("decide-extension", "pending", "street",
           lambda w: {"decision": "approve", "note": "同意"},
           lambda w: {"decision": "maybe"}, "decision", K.EXTENSION_APPROVED, "decided",
           lambda c, w: c.extensions.get().status == "approved"),
    Action("pause-clock", "pausable", "mediator", lambda w: {"note": "已申请司法确认"},
           lambda w: {"note": ["not", "text"]}, "note", K.CLOCK_PAUSED, "in_mediation",
           lambda c, w: c.clock_paused_at is not None),
    Action("resume-clock", "paused", "mediator", lambda w: {"note": "法院已裁定"},
           lambda w: {"note": {"not": "text"}}, "note", K.CLOCK_RESUMED, "pausable",
           lambda c, w: c.clock_paused_at is None),
]  # fmt: skip
BY_NAME = {a.name: a for a in ACTIONS}


def post(user, case: Case, action: Action, payload: dict):
    if action.name == "decide-extension" and isinstance(payload, dict):
        # The request the client saw on the case: the newest one.
        extension = case.extensions.order_by("-pk").first()
        payload = {"extension": extension.pk if extension else 0, **payload}
    return client_for(user).post(action.url(case), payload, format="json")


def test_it_has_a_test_scenario_for_every_sla_endpoint():
    assert {actions.ACTIONS[name].path for name in SLA_ACTION_NAMES} == set(BY_NAME)


@pytest.mark.parametrize("name", list(BY_NAME))
def test_it_does_each_sla_action_and_appends_its_event(w, name):
    action = BY_NAME[name]
    case = case_in(w, action.ready)
    before = CaseEvent.objects.filter(case=case).count()

    response = post(w.users[action.actor], case, action, action.good(w))

    assert response.status_code == action.success, response.content
    case.refresh_from_db()
    assert action.check(case, w)
    new = list(CaseEvent.objects.filter(case=case).order_by("id"))[before:]
    assert new[0].kind == action.event
    assert new[0].actor == w.users[action.actor]
    assert action.event in [e["kind"] for e in response.json()["events"]]


@pytest.mark.parametrize("name", list(BY_NAME))
def test_it_hides_the_case_from_an_outsider_for_each_sla_action(w, name):
    action = BY_NAME[name]
    case = case_in(w, action.ready)
    before = snapshot(case)

    response = post(w.gridworker2, case, action, action.good(w))

    assert_error_body(response, 404)
    assert snapshot(case) == before


@pytest.mark.parametrize("name", list(BY_NAME))
def test_it_forbids_each_sla_action_to_an_in_scope_user_without_the_right(w, name):
    action = BY_NAME[name]
    case = case_in(w, action.ready)
    before = snapshot(case)

    response = post(w.judge, case, action, action.good(w))

    assert_error_body(response, 403)
    assert snapshot(case) == before


@pytest.mark.parametrize("name", list(BY_NAME))
def test_it_rejects_bad_input_for_each_sla_action_and_saves_nothing(w, name):
    action = BY_NAME[name]
    case = case_in(w, action.ready)
    before = snapshot(case)

    response = post(w.users[action.actor], case, action, action.bad(w))

    body = assert_error_body(response, 400)
    assert body["errors"][action.bad_field]
    assert snapshot(case) == before


@pytest.mark.parametrize("name", list(BY_NAME))
def test_it_refuses_each_sla_action_in_a_state_that_forbids_it_with_409(w, name):
    action = BY_NAME[name]
    case = case_in(w, action.illegal)
    before = snapshot(case)

    response = post(w.users[action.actor], case, action, action.good(w))

    assert_error_body(response, 409)
    assert snapshot(case) == before


def test_it_lets_only_the_level_above_decide_an_extension(w):
    case = case_in(w, "pending")
    before = snapshot(case)

    # The community secretary runs the case but does not approve its extensions.
    response = post(w.secretary, case, BY_NAME["decide-extension"], {"decision": "approve"})

    assert_error_body(response, 403)
    assert snapshot(case) == before


def test_it_answers_404_for_an_extension_of_another_case(w):
    mine, other = case_in(w, "in_mediation"), case_in(w, "pending")
    url = f"/api/v1/cases/{mine.pk}/decide-extension/"
    payload = {"extension": other.extensions.get().pk, "decision": "approve"}

    response = client_for(w.street).post(url, payload, format="json")

    assert_error_body(response, 404)
    assert other.extensions.get().status == "pending"


def test_it_refuses_approving_an_extension_of_a_closed_case_but_allows_refusing(w):
    case = case_in(w, "closed_pending")
    before = snapshot(case)
    action = BY_NAME["decide-extension"]

    assert_error_body(post(w.street, case, action, {"decision": "approve"}), 409)
    assert snapshot(case) == before

    response = post(w.street, case, action, {"decision": "refuse", "note": "已结案"})
    assert response.status_code == 200, response.content
    assert case.extensions.get().status == "refused"


def test_it_refuses_to_pause_a_case_whose_policy_does_not_allow_it(w):
    case = case_in(w, "in_mediation")  # the default policy: the clock never stops

    response = post(w.mediator, case, BY_NAME["pause-clock"], {"note": "已申请司法确认"})

    body = assert_error_body(response, 409)
    assert "暂停" in body["detail"] or "paus" in body["detail"]


# --- what the actions do ------------------------------------------------------------------------


def test_it_moves_the_closing_deadline_by_an_approved_extension_and_records_it(
    w, client, time_machine
):
    time_machine.move_to(T0, tick=False)
    case = case_in(w, "in_mediation")
    time_machine.shift(10 * DAY)
    services.extension_request(case=case, actor=w.mediator, days=15, reason="当事人外出务工")

    response = post(
        w.street, case, BY_NAME["decide-extension"], {"decision": "approve", "note": "同意"}
    )

    assert response.status_code == 200
    case.refresh_from_db()
    assert case.close_due_at == T0 + 30 * DAY + 15 * DAY
    extension = case.extensions.get()
    assert (extension.old_close_due_at, extension.new_close_due_at) == (
        T0 + 30 * DAY, T0 + 45 * DAY)  # fmt: skip
    assert response.json()["close_due_at"] == (T0 + 45 * DAY).isoformat()
    assert response.json()["extensions"][0]["status"] == "approved"
    kinds = [e.kind for e in case.events.all()]
    assert kinds[-2:] == [K.EXTENSION_REQUESTED, K.EXTENSION_APPROVED]

    client.force_login(w.mediator)
    page = client.get(reverse("disputes:detail", args=[case.pk])).content.decode()
    assert 'data-event="extension_approved"' in page
    assert 'data-extension="approved"' in page
    assert shown(T0 + 45 * DAY) in page


def test_it_moves_a_community_case_raised_to_major_to_the_street_queue(w, time_machine):
    time_machine.move_to(T0, tick=False)
    case = case_in(w, "assigned")
    time_machine.shift(2 * DAY)

    response = post(w.mediator, case, BY_NAME["raise-risk"],
                    {"risk_level": "major", "reason": "十余户聚集"})  # fmt: skip

    assert response.status_code == 200, response.content
    case.refresh_from_db()
    assert (case.risk_level, case.handling_level, case.handling_area) == (
        "major", "street", w.street_area)  # fmt: skip
    assert case.status == S.FILED and case.mediator is None
    assert case.assign_due_at == T0 + 2 * DAY + 24 * HOUR  # a new assignment deadline
    assert case.close_due_at == T0 + 30 * DAY  # the same closing deadline
    assert w.mediator in case.assistants.all()
    kinds = [e.kind for e in case.events.all()]
    assert kinds[-2:] == [K.RISK_RAISED, K.ESCALATED]
    assert Notification.objects.filter(recipient=w.street, case=case, kind="escalated").exists()


def test_it_makes_a_dispatched_case_visible_to_the_departments_liaison(w, client):
    case = case_in(w, "filed")
    assert not selectors.case_list(user=w.fresh("labour")).filter(pk=case.pk).exists()
    assert client_for(w.fresh("labour")).get(f"/api/v1/cases/{case.pk}/").status_code == 404

    response = post(w.district, case, BY_NAME["dispatch"],
                    {"department": w.hrss.pk, "note": "请人社局牵头"})  # fmt: skip

    assert response.status_code == 200
    liaison = w.fresh("labour")
    assert selectors.case_list(user=liaison).filter(pk=case.pk).exists()
    assert client_for(liaison).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    client.force_login(liaison)
    assert client.get(reverse("disputes:detail", args=[case.pk])).status_code == 200
    assert Notification.objects.filter(recipient=liaison, case=case, kind="dispatched").exists()


def test_it_moves_the_closing_deadline_by_the_paused_time(w, time_machine):
    time_machine.move_to(T0, tick=False)
    case = case_in(w, "pausable")
    time_machine.shift(5 * DAY)
    post(w.mediator, case, BY_NAME["pause-clock"], {"note": "已申请司法确认"})
    time_machine.shift(3 * DAY)
    assert clock.evaluate(Case.objects.get(pk=case.pk), T0 + 40 * DAY) == (clock.GREEN, [])

    post(w.mediator, case, BY_NAME["resume-clock"], {"note": "法院已裁定"})

    case.refresh_from_db()
    assert case.clock_paused_at is None
    assert case.close_due_at == T0 + 33 * DAY


# --- the page offers exactly what would succeed ---------------------------------------------


def _good_call(name: str, case: Case, actor: User, w: World):
    """Call the service with input the page's form would send."""
    if name == "escalate":
        return services.case_escalate(case=case, actor=actor, reason="上报")
    if name == "raise_risk":
        levels = ["ordinary", "major", "serious"]
        higher = levels[min(levels.index(case.risk_level) + 1, 2)]
        return services.case_raise_risk(case=case, actor=actor, risk_level=higher, reason="升级")
    if name == "dispatch":
        return services.case_dispatch(case=case, actor=actor, department=w.hrss, note="发令")
    if name == "request_extension":
        return services.extension_request(case=case, actor=actor, days=10, reason="延期")
    if name == "decide_extension":
        extension = permissions.pending_extension(case)
        if extension is None:
            raise services.TransitionError(case, "decided")
        return services.extension_decide(
            extension=extension, actor=actor, approve=case.status in (
                S.FILED, S.SENT_BACK, S.ACCEPTED, S.ASSIGNED, S.IN_MEDIATION),
        )  # fmt: skip
    if name == "pause_clock":
        return services.case_pause_clock(case=case, actor=actor)
    return services.case_resume_clock(case=case, actor=actor)


class _Undo(Exception):
    pass


def _succeeds(name: str, case: Case, actor: User, w: World) -> bool:
    try:
        with transaction.atomic():
            _good_call(name, case, actor, w)
            raise _Undo
    except _Undo:
        return True
    except (PermissionDenied, ValidationError, services.TransitionError):
        return False


SLA_ACTION_NAMES = ["escalate", "raise_risk", "dispatch", "request_extension",
                    "decide_extension", "pause_clock", "resume_clock"]  # fmt: skip
VIEWERS = ["gridworker", "secretary", "mediator", "street", "district", "judge", "labour"]


@pytest.mark.parametrize("state", list(STATES))
def test_it_offers_exactly_the_sla_actions_that_would_succeed(w, state):
    case = case_in(w, state)
    checked = 0
    for username in VIEWERS:
        viewer = w.fresh(username)
        try:
            shown = selectors.case_detail(user=viewer, pk=case.pk)
        except Case.DoesNotExist:
            continue  # not visible: 404 at every edge
        offered = set(actions.available_names(viewer, shown))
        for name in SLA_ACTION_NAMES:
            fresh = selectors.case_detail(user=viewer, pk=case.pk)
            assert (name in offered) == _succeeds(name, fresh, viewer, w), (state, username, name)
            checked += 1
    assert checked


# --- the case page --------------------------------------------------------------------------


def test_it_escalates_from_the_case_page_in_place(w, client):
    case = case_in(w, "assigned")
    client.force_login(w.mediator)
    url = reverse("disputes:action", args=[case.pk, "escalate"])

    response = client.post(url, {"escalate-reason": "社区调解不成"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="case-panel" ')
    assert 'data-event="escalated"' in body and w.street_area.name in body
    case.refresh_from_db()
    assert case.handling_area == w.street_area


def test_it_offers_the_sla_actions_and_shows_the_pending_request(w, client):
    case = case_in(w, "pending")
    client.force_login(w.street)
    response = client.get(reverse("disputes:detail", args=[case.pk]))

    names = [name for name, _form, _label in response.context["actions"]]
    assert {"escalate", "raise_risk", "dispatch", "decide_extension"} <= set(names)
    assert "request_extension" not in names  # one request at a time
    body = response.content.decode()
    assert 'data-action="decide_extension"' in body
    assert "当事人外出务工" in body  # the pending request is shown with its reason
    assert 'data-extension="pending"' in body


def test_it_hides_the_decision_from_those_who_run_the_case_at_its_own_level(w, client):
    case = case_in(w, "pending")
    client.force_login(w.secretary)
    response = client.get(reverse("disputes:detail", args=[case.pk]))

    names = [name for name, _form, _label in response.context["actions"]]
    assert "decide_extension" not in names
    assert 'data-extension="pending"' in response.content.decode()


def test_it_approves_an_extension_on_the_page(w, client, time_machine):
    time_machine.move_to(T0, tick=False)
    case = case_in(w, "pending")
    extension = case.extensions.get()
    client.force_login(w.street)

    response = client.post(
        reverse("disputes:action", args=[case.pk, "decide_extension"]),
        {"decide_extension-extension": extension.pk, "decide_extension-decision": "approve",
         "decide_extension-note": "同意延期"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip

    assert response.status_code == 200
    assert 'data-event="extension_approved"' in response.content.decode()
    case.refresh_from_db()
    assert case.close_due_at == T0 + 45 * DAY


def test_it_reports_a_request_decided_meanwhile_as_a_conflict_on_the_page(w, client):
    case = case_in(w, "pending")
    extension = case.extensions.get()
    services.extension_decide(extension=extension, actor=w.district, approve=False)
    before = snapshot(case)
    client.force_login(w.street)

    response = client.post(
        reverse("disputes:action", args=[case.pk, "decide_extension"]),
        {"decide_extension-extension": extension.pk, "decide_extension-decision": "approve"},
        HTTP_HX_REQUEST="true",
    )

    assert response.context["action_error"]
    assert snapshot(case) == before


def test_it_shows_field_errors_for_a_bad_extension_request_and_saves_nothing(w, client):
    case = case_in(w, "in_mediation")
    before = snapshot(case)
    client.force_login(w.mediator)

    response = client.post(
        reverse("disputes:action", args=[case.pk, "request_extension"]),
        {"request_extension-days": "0", "request_extension-reason": ""},
        HTTP_HX_REQUEST="true",
    )

    form = {n: f for n, f, _label in response.context["actions"]}["request_extension"]
    assert form.errors["days"] and form.errors["reason"]
    assert snapshot(case) == before


def test_it_refuses_an_sla_action_to_an_in_scope_user_on_the_page(w, client):
    case = case_in(w, "filed")
    before = snapshot(case)
    client.force_login(w.judge)

    response = client.post(
        reverse("disputes:action", args=[case.pk, "escalate"]),
        {"escalate-reason": "上报"},
        HTTP_HX_REQUEST="true",
    )

    assert response.context["action_error"]
    assert snapshot(case) == before
    client.force_login(w.gridworker2)
    response = client.post(
        reverse("disputes:action", args=[case.pk, "escalate"]), {"escalate-reason": "上报"}
    )
    assert response.status_code == 404


def test_it_offers_only_higher_risk_levels(w, client):
    case = case_in(w, "filed")
    services.case_raise_risk(case=case, actor=w.secretary, risk_level="major", reason="聚集")
    client.force_login(w.street)
    response = client.get(reverse("disputes:detail", args=[case.pk]))

    form = {n: f for n, f, _label in response.context["actions"]}["raise_risk"]
    assert [value for value, _label in form.fields["risk_level"].choices] == ["serious"]


def test_it_shows_the_deadlines_on_time_flags_and_chinese_reasons(w, client, time_machine):
    time_machine.move_to(T0, tick=False)
    case = case_in(w, "filed")
    time_machine.shift(25 * HOUR)
    client.force_login(w.secretary)
    url = reverse("disputes:detail", args=[case.pk])

    page = client.get(url).content.decode()
    assert "未按时分配" in page
    assert 'data-sla="orange"' in page
    assert shown(T0 + 24 * HOUR) in page  # assign by
    assert shown(T0 + 30 * DAY) in page  # close by

    _assign(case, w)
    page = client.get(url).content.decode()
    assert "未按时分配" not in page
    assert 'data-on-time="0"' in page  # assigned, but late
    assert shown(T0 + 49 * HOUR) in page  # first progress by: 24 h after the late assignment


def test_it_shows_a_paused_clock(w, client):
    case = case_in(w, "paused")
    client.force_login(w.mediator)
    response = client.get(reverse("disputes:detail", args=[case.pk]))

    assert 'data-testid="clock-paused"' in response.content.decode()
    names = [name for name, _form, _label in response.context["actions"]]
    assert "resume_clock" in names and "pause_clock" not in names


# --- the case list: colour, reason, worst first -------------------------------------------------


@pytest.fixture
def coloured(w, time_machine):
    """Four open cases at T0 + 31 days: red (31 days old), orange not assigned (25 h),
    orange not handled (assigned 2 days ago), green (just filed)."""
    time_machine.move_to(T0, tick=False)
    red = file_case(w, cause="红：三十一天未办结")
    time_machine.move_to(T0 + 29 * DAY, tick=False)
    not_handled = _assign(file_case(w, cause="橙：未按时处理"), w)
    time_machine.move_to(T0 + 31 * DAY - 25 * HOUR, tick=False)
    not_assigned = file_case(w, cause="橙：未按时分配")
    time_machine.move_to(T0 + 31 * DAY, tick=False)
    green = file_case(w, cause="绿：刚登记")
    return {"red": red, "not_assigned": not_assigned, "not_handled": not_handled,
            "green": green}  # fmt: skip


def causes(response) -> list[str]:
    return [row["case"].cause for row in response.context["rows"]]


def test_it_filters_the_list_by_colour_and_reason(w, client, coloured):
    client.force_login(w.secretary)
    url = reverse("disputes:list")

    assert causes(client.get(url, {"colour": "red"})) == ["红：三十一天未办结"]
    assert sorted(causes(client.get(url, {"colour": "orange"}))) == sorted(
        ["橙：未按时分配", "橙：未按时处理"])  # fmt: skip
    assert causes(client.get(url, {"colour": "green"})) == ["绿：刚登记"]
    assert causes(client.get(url, {"reason": "not_assigned"})) == [
        "橙：未按时分配", "红：三十一天未办结"]  # fmt: skip
    assert causes(client.get(url, {"reason": "not_handled"})) == ["橙：未按时处理"]
    assert causes(client.get(url, {"reason": "past_close"})) == ["红：三十一天未办结"]


def test_it_sorts_the_list_worst_first(w, client, coloured):
    client.force_login(w.secretary)

    response = client.get(reverse("disputes:list"), {"sort": "sla"})

    # Red, then the orange case overdue longest (assigned on day 29, handling due day 30),
    # then the one overdue for an hour, then green.
    assert causes(response) == [
        "红：三十一天未办结",
        "橙：未按时处理",
        "橙：未按时分配",
        "绿：刚登记",
    ]


def test_it_shows_the_colour_and_the_reason_on_every_row(w, client, coloured):
    client.force_login(w.secretary)

    response = client.get(reverse("disputes:list"), {"sort": "sla"})

    body = response.content.decode()
    rows = {row["case"].cause: (row["sla"][0], [str(x) for x in row["labels"]])
            for row in response.context["rows"]}  # fmt: skip
    assert rows == {
        "红：三十一天未办结": ("red", ["超过办结期限", "未按时分配"]),
        "橙：未按时处理": ("orange", ["未按时处理纠纷"]),
        "橙：未按时分配": ("orange", ["未按时分配"]),
        "绿：刚登记": ("green", []),
    }
    assert "超过办结期限、未按时分配" in body and "未按时处理纠纷" in body


def test_it_agrees_with_evaluate_in_the_sql_filter(w, coloured):
    now = timezone.now()
    rows = Case.objects.filter(pk__in=[c.pk for c in coloured.values()]).annotate_sla(now)
    for case in rows:
        colour, reasons = clock.evaluate(case, now)
        assert case.sla_colour == colour
        assert {r for r in clock.REASONS if getattr(case, f"sla_{r}")} == set(reasons)


def test_it_filters_and_sorts_the_api_list_the_same_way(w, coloured):
    api = client_for(w.secretary)

    red = api.get("/api/v1/cases/", {"colour": "red"}).json()["results"]
    assert [(c["cause"], c["sla"]["colour"]) for c in red] == [("红：三十一天未办结", "red")]
    late = api.get("/api/v1/cases/", {"reason": "not_handled"}).json()["results"]
    assert [c["cause"] for c in late] == ["橙：未按时处理"]
    worst = api.get("/api/v1/cases/", {"sort": "sla"}).json()["results"]
    assert [c["sla"]["colour"] for c in worst] == ["red", "orange", "orange", "green"]
    assert worst[0]["sla"]["labels"] == ["超过办结期限", "未按时分配"]


def test_it_combines_the_search_with_colour_and_worst_first(w, client, coloured):
    # The search joins the parties (DISTINCT); the order must still be by the annotations.
    client.force_login(w.secretary)
    params = {"q": "李秀英", "sort": "sla", "reason": "not_assigned"}

    response = client.get(reverse("disputes:list"), params)

    assert causes(response) == ["红：三十一天未办结", "橙：未按时分配"]
    results = client_for(w.secretary).get("/api/v1/cases/", params).json()["results"]
    assert [c["cause"] for c in results] == ["红：三十一天未办结", "橙：未按时分配"]


def test_it_rejects_an_unknown_colour_in_the_api(w):
    response = client_for(w.secretary).get("/api/v1/cases/", {"colour": "purple"})

    body = assert_error_body(response, 400)
    assert body["errors"]["colour"]


def _queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured)


def test_it_lists_by_colour_with_a_fixed_number_of_queries(
    w, client, time_machine, django_assert_max_num_queries
):
    def api():  # a fresh user each time, as each real request has
        return client_for(w.fresh("secretary"))

    time_machine.move_to(T0, tick=False)
    for _ in range(2):
        file_case(w)
    time_machine.move_to(T0 + 2 * DAY, tick=False)
    client.force_login(w.secretary)
    params = {"colour": "orange", "sort": "sla"}
    # session, user, scope, count, the ids of the running cases by deadline and of the rest
    # newest first (each in its own index order, issue 12), rows, the filter's type picker
    # (the area picker asks as you type), unread badge, the banner of instructions
    with django_assert_max_num_queries(10):
        few_page = _queries(client, reverse("disputes:list"), params)
    first, second, third = api(), api(), api()
    # scope, count, the two id lists of the deadline sort (as on the page), rows
    with django_assert_max_num_queries(5):
        few_api = _queries(first, "/api/v1/cases/", params)
    with django_assert_max_num_queries(3):
        by_reason = _queries(second, "/api/v1/cases/", {"reason": "not_assigned"})

    time_machine.move_to(T0, tick=False)
    for _ in range(20):
        _assign(file_case(w), w)
    time_machine.move_to(T0 + 2 * DAY, tick=False)
    with django_assert_max_num_queries(10):
        many_page = _queries(client, reverse("disputes:list"), params)
    with django_assert_max_num_queries(5):
        many_api = _queries(third, "/api/v1/cases/", params)

    # More rows never cost more queries (with a full first page, the deadline sort's second
    # list is not even asked for).
    assert many_page <= few_page and many_api <= few_api and by_reason <= few_api
    assert client.get(reverse("disputes:list"), {"colour": "orange"}).context[
        "page"].paginator.count == 22  # fmt: skip

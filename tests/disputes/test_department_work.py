"""A department's part in a dispatched case (部门协同), through the API and the services:
the labour bureau's liaison (labour, 吴人社) signs for, returns, posts progress and reports
completion; the dispatching level (the community secretary, or a centre above) verifies.

Scenario (the demo district, see test_api.py): a wage dispute filed in 民生路社区 grid 1,
in mediation, dispatched by the secretary to 区人力社保局 (HRSS). The grid worker of another
street is the outsider; the judge sees the case but has no part in it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from disputes import services
from disputes.department_models import DepartmentTask
from disputes.models import Attachment, Case, CaseEvent
from grids.models import Assignment, Department, Role
from notifications.models import Notification
from tests.disputes.test_api import (  # noqa: F401  (seeded: the demo district, once)
    World,
    assert_error_body,
    client_for,
    file_case,
    not_an_image,
    png,
    seeded,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
K = CaseEvent.Kind
T = DepartmentTask.Status


@pytest.fixture
def w(seeded, db):  # noqa: F811
    return seeded


def dispatched(w: World) -> Case:
    case = file_case(w, category="1001")
    case = services.case_assign(case=case, mediator=w.mediator, actor=w.secretary)
    case = services.case_progress(case=case, actor=w.mediator, note="已上门")
    return services.case_dispatch(
        case=case, actor=w.secretary, department=w.hrss, note="请人社局督促企业支付工资"
    )


def signed(w: World) -> Case:
    case = dispatched(w)
    services.task_sign(case=case, actor=w.labour)
    return case


def reported(w: World) -> Case:
    case = signed(w)
    services.task_report(case=case, actor=w.labour, note="企业已支付拖欠工资")
    return case


def task_of(case: Case) -> DepartmentTask:
    return DepartmentTask.objects.get(case=case)


def post(user, case, path, payload, fmt="json"):
    return client_for(user).post(f"/api/v1/cases/{case.pk}/{path}/", payload, format=fmt)


def snapshot(case: Case) -> tuple:
    task = task_of(case)
    case = Case.objects.get(pk=case.pk)
    return (
        case.status,
        case.lead_department_id,
        task.status,
        task.signed_at,
        task.report,
        task.verified_at,
        CaseEvent.objects.filter(case=case).count(),
        Attachment.objects.filter(case=case).count(),
    )


# --- the happy path --------------------------------------------------------------------------


def test_dispatch_opens_the_lead_task_with_a_sign_for_deadline(w):
    case = dispatched(w)
    task = task_of(case)
    assert (task.department, task.role, task.status) == (w.hrss, "lead", T.DISPATCHED)
    assert task.sign_due_at > task.dispatched_at
    assert task.instructions == "请人社局督促企业支付工资"


def test_the_liaison_signs_for_reports_and_the_centre_passes_the_report(w):
    case = dispatched(w)

    response = post(w.labour, case, "sign-for", {"note": "已签收"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["department_tasks"][0]["status"] == T.SIGNED
    assert body["department_tasks"][0]["signed_on_time"] is True
    assert body["events"][-1]["kind"] == K.DEPT_SIGNED

    response = post(w.labour, case, "department-progress", {"note": "已约谈企业负责人"})
    assert response.status_code == 200, response.content
    response = post(
        w.labour,
        case,
        "report-completion",
        {"note": "企业已支付拖欠工资", "photos": [png("receipt.png")]},
        fmt="multipart",
    )
    assert response.status_code == 200, response.content
    assert task_of(case).status == T.REPORTED
    assert Attachment.objects.filter(case=case, event__kind=K.DEPT_REPORTED).count() == 1
    # The dispatching centre is told there is a report to check.
    assert Notification.objects.filter(recipient=w.secretary, kind="case_dept_reported").exists()

    response = post(w.secretary, case, "verify-report", {"decision": "pass"})
    assert response.status_code == 200, response.content
    task = task_of(case)
    assert (task.status, task.verified_by) == (T.DONE, w.secretary)
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert (event.kind, event.data["passed"]) == (K.DEPT_VERIFIED, True)
    assert Notification.objects.filter(recipient=w.labour, kind="case_dept_verified").exists()


def test_a_failed_verification_sends_the_task_back_to_the_department_with_the_reason(w):
    case = reported(w)
    response = post(w.secretary, case, "verify-report", {"decision": "fail", "note": "缺凭证"})
    assert response.status_code == 200, response.content
    assert task_of(case).status == T.SIGNED
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert (event.data["passed"], event.note) == (False, "缺凭证")
    # The department can report again.
    response = post(w.labour, case, "report-completion", {"note": "补充付款凭证"})
    assert response.status_code == 200, response.content


def test_returning_hands_the_case_back_to_the_centre_with_the_reason(w):
    case = dispatched(w)
    response = post(w.labour, case, "return-to-centre", {"reason": "不属于本部门职责"})
    assert response.status_code == 200, response.content
    assert response.json()["department_tasks"][0]["status"] == T.RETURNED
    assert response.json()["department_tasks"][0]["return_reason"] == "不属于本部门职责"
    assert Notification.objects.filter(recipient=w.secretary, kind="case_dept_returned").exists()
    # Returned: nothing more for the department to do on it.
    assert_error_body(post(w.labour, case, "sign-for", {"note": ""}), 409)
    # The centre can dispatch again: a new task, the returned one kept as evidence.
    services.case_dispatch(case=case, actor=w.secretary, department=w.hrss, note="请再核实")
    assert DepartmentTask.objects.filter(case=case).count() == 2


# --- refusals: who, what input, which state ---------------------------------------------------

LIAISON_ACTIONS = [
    ("sign-for", dispatched, {"note": "已签收"}),
    ("return-to-centre", dispatched, {"reason": "不属于本部门职责"}),
    ("department-progress", signed, {"note": "已约谈"}),
    ("report-completion", signed, {"note": "已办结"}),
]


@pytest.mark.parametrize(("path", "ready", "payload"), LIAISON_ACTIONS)
def test_an_outsider_gets_404_and_nothing_changes(w, path, ready, payload):
    case = ready(w)
    before = snapshot(case)
    assert_error_body(post(w.gridworker2, case, path, payload), 404)
    assert snapshot(case) == before


@pytest.mark.parametrize(("path", "ready", "payload"), LIAISON_ACTIONS)
def test_someone_who_sees_the_case_but_is_not_its_liaison_gets_403(w, path, ready, payload):
    case = ready(w)
    before = snapshot(case)
    for user in (w.secretary, w.judge):
        assert_error_body(post(user, case, path, payload), 403)
    assert snapshot(case) == before


def test_only_the_dispatching_level_verifies(w):
    case = reported(w)
    before = snapshot(case)
    assert_error_body(post(w.labour, case, "verify-report", {"decision": "pass"}), 403)
    assert_error_body(post(w.judge, case, "verify-report", {"decision": "pass"}), 403)
    assert_error_body(post(w.gridworker2, case, "verify-report", {"decision": "pass"}), 404)
    assert snapshot(case) == before


@pytest.mark.parametrize(
    ("path", "ready", "payload", "field", "actor"),
    [
        ("sign-for", dispatched, {"note": {"not": "text"}}, "note", "labour"),
        ("return-to-centre", dispatched, {"reason": "  "}, "reason", "labour"),
        ("department-progress", signed, {"note": ""}, "note", "labour"),
        ("report-completion", signed, {"note": ""}, "note", "labour"),
        ("report-completion", signed, {"note": "已办结", "photos": [not_an_image()]}, "photos",
         "labour"),
        ("verify-report", reported, {"decision": "maybe"}, "decision", "secretary"),
        ("verify-report", reported, {"decision": "fail", "note": ""}, "note", "secretary"),
    ],
)  # fmt: skip
def test_bad_input_is_400_with_field_errors_and_nothing_saved(
    w, path, ready, payload, field, actor
):
    case = ready(w)
    before = snapshot(case)
    fmt = "multipart" if "photos" in payload else "json"
    response = post(w.users[actor], case, path, payload, fmt=fmt)
    body = assert_error_body(response, 400)
    assert body["errors"][field]
    assert snapshot(case) == before


@pytest.mark.parametrize(
    ("path", "ready", "payload", "actor"),
    [
        ("sign-for", signed, {"note": ""}, "labour"),
        ("department-progress", dispatched, {"note": "已约谈"}, "labour"),
        ("report-completion", dispatched, {"note": "已办结"}, "labour"),
        ("report-completion", reported, {"note": "已办结"}, "labour"),
        ("return-to-centre", reported, {"reason": "不归我们管"}, "labour"),
        ("verify-report", signed, {"decision": "pass"}, "secretary"),
    ],
)
def test_the_wrong_state_is_409_and_nothing_changes(w, path, ready, payload, actor):
    case = ready(w)
    before = snapshot(case)
    assert_error_body(post(w.users[actor], case, path, payload), 409)
    assert snapshot(case) == before


def test_the_case_page_shows_the_departments_part_and_offers_the_liaison_sign_for(w, client):
    case = dispatched(w)
    client.force_login(w.labour)
    url = reverse("disputes:detail", args=[case.pk])
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "区人力资源和社会保障局" in html or w.hrss.name in html
    assert 'name="sign_for-note"' in html
    assert len(queries) <= 40, len(queries)


# --- the department queue: page and API ---------------------------------------------------------


def test_the_queue_lists_the_departments_live_tasks_with_few_queries(
    w, client, django_assert_max_num_queries
):
    cases = [dispatched(w) for _ in range(3)]
    services.task_sign(case=cases[0], actor=w.labour)
    client.force_login(w.labour)
    url = reverse("disputes:department_queue")
    with django_assert_max_num_queries(12):
        page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    for case in cases:
        assert f'data-case="{case.number}"' in html
    # Awaiting sign-for first.
    assert html.index(cases[1].number) < html.index(cases[0].number)
    assert "待签收" in html

    with django_assert_max_num_queries(12):
        api = client_for(w.labour).get("/api/v1/department-tasks/")
    assert api.status_code == 200
    rows = api.json()["results"]
    assert [r["case"]["number"] for r in rows][:2] == [cases[1].number, cases[2].number]
    assert {r["status"] for r in rows} == {T.DISPATCHED, T.SIGNED}
    assert all(r["sign_colour"] == "green" for r in rows)


def test_finished_tasks_leave_the_queue_unless_asked_for(w):
    case = dispatched(w)
    services.task_return(case=case, actor=w.labour, reason="不属于本部门职责")
    api = client_for(w.labour)
    assert api.get("/api/v1/department-tasks/").json()["results"] == []
    rows = api.get("/api/v1/department-tasks/?show=all").json()["results"]
    assert [(r["case"]["number"], r["status"]) for r in rows] == [(case.number, T.RETURNED)]


def test_the_queue_is_for_liaisons_only(w, client):
    dispatched(w)
    for user in (w.secretary, w.gridworker):
        assert_error_body(client_for(user).get("/api/v1/department-tasks/"), 403)
        client.force_login(user)
        assert client.get(reverse("disputes:department_queue")).status_code == 403


def test_an_empty_queue_says_so(w, client):
    client.force_login(w.labour)
    page = client.get(reverse("disputes:department_queue"))
    assert "目前没有本部门的任务" in page.content.decode()


# --- assisting departments (配合) -----------------------------------------------------------------


def test_an_assisting_department_gets_its_own_task_deadline_and_reports_back(w):
    police_bureau = Department.objects.get(code="POLICE")
    liaison = UserFactory(username="police_liaison")
    Assignment.objects.create(user=liaison, role=Role.DEPARTMENT_LIAISON, department=police_bureau)
    case = file_case(w, category="1001")
    case = services.case_assign(case=case, mediator=w.mediator, actor=w.secretary)
    response = post(
        w.secretary,
        case,
        "dispatch",
        {"department": w.hrss.pk, "assisting": [police_bureau.pk], "note": "人社牵头，公安配合"},
    )
    assert response.status_code == 200, response.content
    tasks = {t["department"]["id"]: t for t in response.json()["department_tasks"]}
    assert (tasks[w.hrss.pk]["role"], tasks[police_bureau.pk]["role"]) == ("lead", "assist")
    case.refresh_from_db()
    lead = DepartmentTask.objects.get(case=case, department=w.hrss)
    helper = DepartmentTask.objects.get(case=case, department=police_bureau)
    assert lead.report_due_at == case.close_due_at
    assert helper.report_due_at < case.close_due_at  # its own, shorter deadline
    assert Notification.objects.filter(recipient=liaison, kind="dispatched").exists()

    # The assisting liaison sees the case and does its own part; the lead's is untouched.
    assert client_for(liaison).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    assert post(liaison, case, "sign-for", {"note": ""}).status_code == 200
    assert post(liaison, case, "report-completion", {"note": "已出警调查"}).status_code == 200
    lead.refresh_from_db()
    helper.refresh_from_db()
    assert (lead.status, helper.status) == (T.DISPATCHED, T.REPORTED)

    # The centre verifies the assisting department's report; its liaison is told.
    response = post(w.secretary, case, "verify-report", {"decision": "pass"})
    assert response.status_code == 200, response.content
    helper.refresh_from_db()
    assert helper.status == T.DONE
    assert Notification.objects.filter(recipient=liaison, kind="case_dept_verified").exists()
    assert not Notification.objects.filter(recipient=w.labour, kind="case_dept_verified").exists()

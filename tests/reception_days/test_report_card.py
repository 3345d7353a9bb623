"""The report card on known data: every figure of a community, its street and the
district, through the selector, the page, the API and the CSV."""

import csv
import io

import pytest
from rest_framework.test import APIClient

from disputes import services as cases
from disputes.models import Outcome, ReferralKind
from reception_days import selectors, services
from reception_days.models import VisitOutcome
from tests.reception_days.conftest import day

NOVEMBER = {"date_from": day("2026-11-01"), "date_to": day("2026-11-30")}
FIGURES = ("sessions_held", "attendances", "residents_received", "issues_raised",
           "disputes_screened", "converted", "resolved", "closed")  # fmt: skip


def hold(session, actor, *names):
    present = [s.pk for s in session.staff.all() if s.name in names]
    services.session_hold(session=session, actor=actor, attended=present)


def convert(world, visit, actor=None):
    return services.visit_convert(visit=visit, actor=actor or world.lawyer, category=world.category)


def mediate(world, case):
    cases.case_assign(case=case, mediator=world.secretary, actor=world.secretary)
    cases.case_progress(case=case, actor=world.secretary, note="双方到场协商")
    return cases.case_resolve(
        case=case, actor=world.secretary, outcome=Outcome.AGREEMENT, note="达成协议"
    )


@pytest.fixture
def data(world):
    w = world
    # C1, 4 November: held; judge, police, lawyer and a fire-safety worker attended.
    a = w.session(day=day("2026-11-04"), theme="十一月接待日")
    services.session_add_staff(session=a, actor=w.lawyer, name="赵消防", duty="消防专干")
    w.visit(a, people=1)  # answered on the spot
    resolved = convert(w, w.visit(a, resident_name="甲", people=3, is_dispute=True))
    mediate(w, resolved)
    closed = convert(w, w.visit(a, resident_name="乙", people=1))
    cases.case_close(case=mediate(w, closed), actor=w.street, note="履行完毕")  # checked
    referred = convert(w, w.visit(a, resident_name="丙", people=2))
    cases.case_refer(case=referred, actor=w.secretary, kind=ReferralKind.LITIGATION,
                     note="引导诉讼")  # fmt: skip
    cases.case_close(case=referred, actor=w.secretary, note="已转诉讼")
    w.visit(a, resident_name="丁", is_dispute=True, outcome=VisitOutcome.TASK_FORCE)
    hold(a, w.lawyer, "郑法官", "何警官", "马律师", "赵消防")
    # C1, 20 November: residents received but never marked held.
    w.visit(w.session(day=day("2026-11-20"), theme="未标记举办"), resident_name="戊", people=2)
    # C1, 24 November: cancelled. 2 December: still to come.
    cancelled = w.session(day=day("2026-11-24"), theme="取消")
    services.session_cancel(session=cancelled, actor=w.secretary, reason="停电")
    w.session(day=day("2026-12-02"), theme="下月")
    # C1, 28 October: outside the period.
    october = w.session(day=day("2026-10-28"), theme="十月接待日")
    convert(w, w.visit(october, resident_name="己"))
    hold(october, w.lawyer, "马律师")
    # C2 (no team), 18 November: organised by the street with two extra workers.
    e = w.session(w.c2, day=day("2026-11-18"), theme="街道组织", with_team=False)
    for name, duty in (("孙信访", "信访干部"), ("吴法务", "法律工作者")):
        services.session_add_staff(session=e, actor=w.street, name=name, duty=duty)
    convert(w, w.visit(e, actor=w.street, resident_name="庚"), actor=w.street)
    hold(e, w.street, "孙信访", "吴法务")
    # C3 (street S2), 11 November.
    f = w.session(w.c3, day=day("2026-11-11"), theme="第二街道")
    w.visit(f, actor=w.other_lawyer, resident_name="辛", people=4)
    hold(f, w.other_lawyer, "钱律师")
    return w


C1 = {"sessions_held": 1, "attendances": 4, "residents_received": 10, "issues_raised": 6,
      "disputes_screened": 4, "converted": 3, "resolved": 2, "closed": 2,
      "resolution_rate": 66.67, "closing_rate": 66.67}  # fmt: skip
C2 = {"sessions_held": 1, "attendances": 2, "residents_received": 1, "issues_raised": 1,
      "disputes_screened": 1, "converted": 1, "resolved": 0, "closed": 0,
      "resolution_rate": 0.0, "closing_rate": 0.0}  # fmt: skip
S1 = {"sessions_held": 2, "attendances": 6, "residents_received": 11, "issues_raised": 7,
      "disputes_screened": 5, "converted": 4, "resolved": 2, "closed": 2,
      "resolution_rate": 50.0, "closing_rate": 50.0}  # fmt: skip
S2 = {"sessions_held": 1, "attendances": 1, "residents_received": 4, "issues_raised": 1,
      "disputes_screened": 0, "converted": 0, "resolved": 0, "closed": 0,
      "resolution_rate": None, "closing_rate": None}  # fmt: skip
DISTRICT = {"sessions_held": 3, "attendances": 7, "residents_received": 15, "issues_raised": 8,
            "disputes_screened": 5, "converted": 4, "resolved": 2, "closed": 2,
            "resolution_rate": 50.0, "closing_rate": 50.0}  # fmt: skip
ZERO = dict.fromkeys(FIGURES, 0) | {"resolution_rate": None, "closing_rate": None}


def figures(row) -> dict:
    return {name: getattr(row, name) for name in (*FIGURES, "resolution_rate", "closing_rate")}


def test_it_counts_a_community(data):
    card = selectors.report_card(area=data.c1, **NOVEMBER)
    assert figures(card.total) == C1
    assert card.rows == []


def test_it_counts_a_street_with_a_row_per_community(data):
    card = selectors.report_card(area=data.s1, **NOVEMBER)
    assert figures(card.total) == S1
    assert [(r.area, figures(r)) for r in card.rows] == [(data.c1, C1), (data.c2, C2)]


def test_it_counts_a_district_with_a_row_per_street(data):
    card = selectors.report_card(area=data.district, **NOVEMBER)
    assert figures(card.total) == DISTRICT
    assert [(r.area, figures(r)) for r in card.rows] == [(data.s1, S1), (data.s2, S2)]
    s2 = selectors.report_card(area=data.s2, **NOVEMBER)
    assert [(r.area, figures(r)) for r in s2.rows] == [(data.c3, S2), (data.c4, ZERO)]


def test_it_counts_by_session_date(data):
    october = selectors.report_card(
        area=data.c1, date_from=day("2026-10-01"), date_to=day("2026-10-31")
    )
    assert figures(october.total) == ZERO | {
        "sessions_held": 1, "attendances": 1, "residents_received": 1, "issues_raised": 1,
        "disputes_screened": 1, "converted": 1, "resolution_rate": 0.0, "closing_rate": 0.0,
    }  # fmt: skip
    one_day = selectors.report_card(area=data.c1, date_from=day("2026-11-20"),
                                    date_to=day("2026-11-20"))  # fmt: skip
    assert figures(one_day.total) == ZERO | {"residents_received": 2, "issues_raised": 1}


def test_it_counts_in_a_fixed_number_of_queries(data, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        selectors.report_card(area=data.district, **NOVEMBER)


# --- the page, the CSV and the API --------------------------------------------------------


def page_figures(html: str) -> dict:
    import re

    found = dict(re.findall(r'data-figure="(\w+)">([^<]*)<', html))
    return {k: v.strip() for k, v in found.items()}


def test_it_shows_the_card_on_a_page(client, data, django_assert_max_num_queries):
    client.force_login(data.street)
    with django_assert_max_num_queries(12):
        response = client.get("/reception-days/report-card/", NOVEMBER)
    assert response.status_code == 200
    html = response.content.decode()
    assert page_figures(html) == {
        "sessions_held": "2", "attendances": "6", "residents_received": "11",
        "issues_raised": "7", "disputes_screened": "5", "converted": "4",
        "resolution_rate": "50.00%", "closing_rate": "50.00%",
    }  # fmt: skip
    assert f'data-row="{data.c1.name}"' in html and f'data-row="{data.c2.name}"' in html


def test_it_defaults_to_the_users_own_area_and_this_month(client, data):
    client.force_login(data.lawyer)
    response = client.get("/reception-days/report-card/")
    card = response.context["card"]
    assert (card.area, card.date_from, card.date_to) == (data.c1, *NOVEMBER.values())
    assert page_figures(response.content.decode())["residents_received"] == "10"


def test_it_hides_areas_outside_the_users_scope(client, data):
    client.force_login(data.other_lawyer)
    assert client.get("/reception-days/report-card/", {"area": data.c1.pk}).status_code == 404
    assert client.get("/reception-days/report-card/", {"area": data.s1.pk}).status_code == 404
    assert client.get("/reception-days/report-card/", {"area": 999999}).status_code == 404
    assert client.get("/reception-days/report-card.csv", {"area": data.c1.pk}).status_code == 404
    # A grid worker's grid is below any level a card is drawn for.
    client.force_login(data.worker)
    assert client.get("/reception-days/report-card/").status_code == 404


def test_it_explains_bad_dates_on_the_page(client, data):
    client.force_login(data.street)
    response = client.get(
        "/reception-days/report-card/", {"date_from": "2026-12-01", "date_to": "2026-11-01"}
    )
    assert response.status_code == 400
    assert 'data-error-for="date_to"' in response.content.decode()
    response = client.get("/reception-days/report-card/", {"date_from": "yesterday"})
    assert response.status_code == 400
    assert 'data-error-for="date_from"' in response.content.decode()


def test_it_exports_csv_with_a_bom_for_excel(client, data):
    client.force_login(data.district_staff)
    response = client.get("/reception-days/report-card.csv", NOVEMBER)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][0] == "区域"  # Chinese headers
    assert rows[1] == [data.s1.name, "2", "6", "11", "7", "5", "4", "2", "2", "50.00%", "50.00%"]
    assert rows[2] == [data.s2.name, "1", "1", "4", "1", "0", "0", "0", "0", "", ""]
    assert rows[3][1:] == ["3", "7", "15", "8", "5", "4", "2", "2", "50.00%", "50.00%"]
    assert data.district.name in rows[3][0]


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_it_answers_the_api_with_the_same_figures(data, django_assert_max_num_queries):
    client = api(data.street)
    with django_assert_max_num_queries(6):
        response = client.get(
            "/api/v1/reception-days/report-card/",
            {"area": data.s1.pk, "from": "2026-11-01", "to": "2026-11-30"},
        )
    assert response.status_code == 200
    body = response.json()
    assert body["area"]["id"] == data.s1.pk
    assert body["period"] == {"from": "2026-11-01", "to": "2026-11-30"}
    assert {k: body["total"][k] for k in C1} == S1
    assert [(r["area"]["name"], {k: r[k] for k in C1}) for r in body["rows"]] == [
        (data.c1.name, C1), (data.c2.name, C2),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "params, fields",
    [
        ({"from": "2026-13-01"}, {"from"}),
        ({"from": "2026-11-30", "to": "2026-11-01"}, {"to"}),
        ({"area": "abc"}, {"area"}),
        ({"area": 2**70}, {"area"}),
    ],
)
def test_it_answers_bad_api_input_with_400_and_field_errors(data, params, fields):
    response = api(data.street).get("/api/v1/reception-days/report-card/", params)
    assert response.status_code == 400
    body = response.json()
    assert set(body["errors"]) == fields and body["detail"]


def test_it_answers_404_for_an_area_outside_the_scope_in_the_api(data):
    response = api(data.other_lawyer).get(
        "/api/v1/reception-days/report-card/", {"area": data.c1.pk}
    )
    assert response.status_code == 404
    assert set(response.json()) == {"detail", "errors"}
    assert APIClient().get("/api/v1/reception-days/report-card/").status_code in (401, 403)

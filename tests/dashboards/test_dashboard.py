"""The triage dashboard (工作台): every figure on the page for a known set of cases (see
dashboard_world.py), drill-down adding up, the queue's in-place actions, the big screen,
the CSV export and a fixed number of queries whatever the data size.

Three users per scenario: the street centre of 解放碑街道 (`street`, the responsible
staff), the district centre above it (`district`), and outsiders (a grid worker; the street
asking for another street)."""

import csv
import io
import json
import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from dashboards import compiled, periods, stats
from dashboards import views as dashboard_views
from dashboards.export import EXPORT_CHUNK
from disputes.models import OPEN_STATUSES, Case, CaseEvent, CaseStatus, CloseKind
from grids.models import Area, AreaLevel
from sla.clock import evaluate
from tests.dashboards.dashboard_world import (
    DISTRICT_APRIL,
    NOW,
    S1_APRIL,
    S1_BY_CATEGORY,
    S1_BY_CHANNEL,
    S1_BY_COMMUNITY,
    S1_MARCH,
    S1_TREND,
    file,
    local,
    seeded_world,
)

pytestmark = pytest.mark.django_db
DASHBOARD = reverse("dashboard:index")


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    yield from seeded_world(django_db_blocker)


@pytest.fixture
def w(seeded, db, time_machine):
    time_machine.move_to(NOW, tick=False)
    return seeded


def page(client, user, expect=200, **params):
    client.force_login(user)
    response = client.get(DASHBOARD, params)
    assert response.status_code == expect
    return response


def figure(html: str, key: str) -> str:
    found = re.findall(rf'data-figure="{re.escape(key)}">([^<]*)<', html)
    assert found, f"no figure {key!r} on the page"
    assert len(set(found)) == 1, f"figure {key!r} differs across the page: {found}"
    return found[0].strip()


def percent(part: int, whole: int) -> str:
    return f"{part / whole * 100:.1f}%"


def chart(response, name: str) -> dict:
    match = re.search(
        rf'<script id="{name}" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, f"no chart data {name}"
    return json.loads(match.group(1))


# --- the numbers on the page -----------------------------------------------------------------


def test_it_shows_the_street_centre_its_open_cases_by_colour_and_reason(client, w):
    html = page(client, w.street).content.decode()

    assert figure(html, "red") == "1"
    assert figure(html, "orange") == "2"
    assert figure(html, "green") == "2"
    assert figure(html, "open") == "5"
    assert figure(html, "not_assigned") == "1"
    assert figure(html, "not_handled") == "1"
    assert figure(html, "past_close") == "1"
    assert figure(html, "due_soon") == "2"
    assert figure(html, "unassigned") == "2"


def test_it_links_each_colour_and_reason_to_the_filtered_case_list(client, w):
    html = page(client, w.street).content.decode()

    for colour in ("red", "orange", "green"):
        assert f'href="/cases/?area={w.s1.pk}&amp;colour={colour}" data-colour="{colour}"' in html
    for reason in ("not_assigned", "not_handled", "past_close"):
        assert f'href="/cases/?area={w.s1.pk}&amp;reason={reason}" data-reason="{reason}"' in html


def test_it_shows_the_rates_of_this_month_with_their_parts(client, w):
    response = page(client, w.street)
    html = response.content.decode()
    e = S1_APRIL

    assert response.context["period"] == periods.Period(date(2026, 4, 1), date(2026, 4, 20))
    assert figure(html, "filed") == "9"
    assert figure(html, "withdrawn") == "1"
    assert figure(html, "resolution_rate") == "37.5%"
    assert figure(html, "resolution_rate_parts") == "3 / 8"
    assert figure(html, "closing_rate") == "62.5%"
    assert figure(html, "closing_rate_parts") == "5 / 8"
    assert figure(html, "assign_on_time_rate") == percent(e["assign_in_time"], e["assign_due"])
    assert figure(html, "assign_on_time_rate_parts") == "5 / 7"
    assert figure(html, "first_handling_on_time_rate_parts") == "5 / 6"
    assert figure(html, "first_handling_on_time_rate") == "83.3%"
    assert figure(html, "closing_on_time_rate") == "100.0%"
    assert figure(html, "closing_on_time_rate_parts") == "5 / 5"


def test_it_shows_the_residents_satisfaction_rate_for_the_area_and_period(client, w):
    """From the residents' answers (dashboard_world.SATISFACTION): by when they answered."""
    march, spring = {"from": "2026-03-01", "to": "2026-03-31"}, {"from": "2026-03-01"}
    assert figure(page(client, w.street).content.decode(), "satisfaction") == "50.0%"
    assert figure(page(client, w.street, **march).content.decode(), "satisfaction") == "100.0%"
    assert figure(page(client, w.street, **spring).content.decode(), "satisfaction") == "66.7%"
    assert figure(page(client, w.street, area=w.c1.pk).content.decode(), "satisfaction") == "50.0%"
    assert figure(page(client, w.district).content.decode(), "satisfaction") == "66.7%"
    assert figure(page(client, w.district, area=w.s2.pk).content.decode(), "satisfaction") == (
        "100.0%"
    )
    client.force_login(w.street)
    screen = client.get(reverse("dashboard:screen")).content.decode()
    assert figure(screen, "satisfaction") == "50.0%"


def test_it_says_when_nobody_answered_and_defines_every_rate(client, w):
    html = page(client, w.street, area=w.c2.pk).content.decode()

    with translation.override("zh-hans"):
        no_ratings = translation.gettext("No ratings yet")
        terms = [str(term) for term, _text in periods.DEFINITIONS]
        texts = {str(term): str(text) for term, text in periods.DEFINITIONS}
        satisfaction = texts[translation.gettext("Satisfaction rate")]
    assert no_ratings == "暂无评价"
    assert figure(html, "satisfaction") == no_ratings
    definitions = html[html.index('id="definitions"') :]
    for term in terms:
        assert f"<dt>{term}</dt>" in definitions
    assert "回访" in satisfaction and satisfaction in definitions


def test_it_computes_the_rates_for_any_period_given_by_date(client, w):
    html = page(client, w.street, **{"from": "2026-03-01", "to": "2026-03-31"}).content.decode()
    e = S1_MARCH

    assert figure(html, "filed") == "3"
    assert figure(html, "resolution_rate_parts") == "1 / 3"
    assert figure(html, "closing_rate_parts") == "1 / 3"
    assert figure(html, "assign_on_time_rate_parts") == "3 / 3"
    assert figure(html, "first_handling_on_time_rate_parts") == "3 / 3"
    # g is past its closing deadline (late), k not yet (not counted), n closed in time.
    assert figure(html, "closing_on_time_rate_parts") == "1 / 2"
    # The open cases now do not depend on the period.
    for key in ("open", "red", "orange", "green", "unassigned", "due_soon"):
        assert figure(html, key) == str(e[key])


def test_it_counts_a_case_filed_just_after_local_midnight_in_its_local_day(client, w):
    """Case j was filed on 1 April at 00:30 in Shanghai, which is still 31 March in UTC."""
    html = page(client, w.street, **{"from": "2026-03-31", "to": "2026-03-31"}).content.decode()
    assert figure(html, "filed") == "0"
    html = page(client, w.street, **{"from": "2026-04-01", "to": "2026-04-01"}).content.decode()
    assert figure(html, "filed") == "1"


def test_it_reports_bad_dates_in_chinese_with_400_and_shows_this_month(client, w):
    response = page(client, w.street, 400, **{"from": "2026-04-10", "to": "2026-04-01"})

    html = response.content.decode()
    errors = html[html.index('data-testid="filter-errors"') :]
    assert errors.index("起始日期晚于截止日期。") < errors.index("</div>")
    assert response.context["period"].start == date(2026, 4, 1)
    assert figure(html, "filed") == "9"  # the default period's figures under the error

    html = page(client, w.street, 400, **{"from": "昨天"}).content.decode()
    assert "输入一个有效的日期。" in html[html.index('data-testid="filter-errors"') :]
    html = page(client, w.street, 400, **{"from": "2016-01-01"}).content.decode()
    assert "统计期间不能超过十年。" in html


def test_it_answers_400_on_the_big_screen_and_counts_panel_for_bad_dates(client, w):
    client.force_login(w.street)
    bad = {"from": "2026-04-10", "to": "2026-04-01"}
    screen = client.get(reverse("dashboard:screen"), bad)
    assert screen.status_code == 400
    assert "起始日期晚于截止日期。" in screen.content.decode()
    assert client.get(reverse("dashboard:counts"), bad).status_code == 400


# --- scope -----------------------------------------------------------------------------------


def test_it_gives_district_staff_the_district_with_a_street_picker(client, w):
    response = page(client, w.district)
    html = response.content.decode()

    assert response.context["area"] == w.district_area
    for key in ("filed", "open", "red", "orange", "green", "unassigned", "due_soon"):
        assert figure(html, key) == str(DISTRICT_APRIL[key])
    picker = [(o["label"], o["selected"]) for o in response.context["options"]]
    assert picker == [("渝中区", True), ("　解放碑街道", False), ("　七星岗街道", False),
                      ("　大坪街道", False)]  # fmt: skip
    assert page(client, w.district, area=w.s2.pk).context["summary"]["filed"] == 2


def test_it_gives_community_staff_their_community(client, w):
    response = page(client, w.secretary)

    assert response.context["area"] == w.c1
    assert figure(response.content.decode(), "filed") == str(S1_BY_COMMUNITY["民生路社区"]["filed"])
    assert response.context["options"][0]["label"] == "民生路社区"


def test_it_refuses_the_dashboard_to_a_grid_worker_and_a_judge(client, w):
    for user in (w.gridworker, w.judge):
        client.force_login(user)
        assert client.get(DASHBOARD).status_code == 403
        assert client.get(reverse("dashboard:screen")).status_code == 403
        assert client.get(reverse("dashboard:counts")).status_code == 403


def test_it_sends_anonymous_visitors_to_the_login_page(client, w):
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_never_shows_another_streets_figures(client, w):
    response = page(client, w.street, 400, area=w.s2.pk)

    assert "area" in response.context["form"].errors
    assert "选择一个有效的选项" in response.content.decode()
    assert response.context["area"] == w.s1
    assert response.context["summary"]["filed"] == S1_APRIL["filed"]


def test_it_shows_the_workbench_in_the_navigation_for_triage_staff_only(client, w):
    client.force_login(w.street)
    assert f'href="{DASHBOARD}"' in client.get("/").content.decode()
    client.force_login(w.gridworker)
    assert f'href="{DASHBOARD}"' not in client.get("/").content.decode()


def test_it_shows_an_area_without_disputes_as_empty_not_broken(client, w):
    """大坪街道 (S3) has no case at all: zeros, dashes for rates, "none" lists, empty charts."""
    response = page(client, w.district, area=w.s3.pk)
    html = response.content.decode()

    for key in ("filed", "withdrawn", "open", "red", "orange", "green", "unassigned", "due_soon",
                "not_assigned", "not_handled", "past_close"):  # fmt: skip
        assert figure(html, key) == "0", key
    for key in ("resolution_rate", "closing_rate", "assign_on_time_rate",
                "first_handling_on_time_rate", "closing_on_time_rate"):  # fmt: skip
        assert figure(html, key) == "—", key
        assert figure(html, f"{key}_parts") == "0 / 0", key
    assert figure(html, "satisfaction") == "暂无评价"
    queue = html[html.index('id="triage"') :]
    assert 'data-testid="queue-empty">暂无待分派案件。<' in queue
    assert 'id="triage-queue"' not in html
    for testid in ("hot-addresses", "hot-micro-grids", "group-disputes"):
        hot = html[html.index(f'data-testid="{testid}"') :]
        assert re.match(r'data-testid="[^"]+">\s*<li class="[^"]*text-muted">无</li>', hot), testid
    assert all(r["filed"] == r["open"] == 0 for r in response.context["areas"])
    assert chart(response, "chart-category")["labels"] == []
    assert chart(response, "chart-channel")["labels"] == []
    assert set(chart(response, "chart-trend")["series"][0]["data"]) == {0}
    _response, raw = export(client, w.district, area=w.s3.pk)
    assert raw.decode("utf-8-sig").count("\n") == 1  # the header alone


# --- drill-down ------------------------------------------------------------------------------


def test_it_breaks_the_street_down_by_community_adding_up_to_the_street(client, w):
    response = page(client, w.street)
    rows = {row["area"].name: row for row in response.context["areas"]}

    assert set(rows) == set(S1_BY_COMMUNITY)
    for name, expected in S1_BY_COMMUNITY.items():
        assert {key: rows[name][key] for key in expected} == expected, name
    summary = response.context["summary"]
    for key in ("filed", "withdrawn", "resolved", "concluded", "open", "red", "orange", "green",
                "unassigned"):  # fmt: skip
        assert sum(r[key] for r in rows.values()) == summary[key], key
    table = response.content.decode()
    c1_row = re.search(rf'<tr data-area="{w.c1.pk}">(.*?)</tr>', table, re.S).group(1)
    assert f'href="?area={w.c1.pk}"' in c1_row
    assert '<td class="text-end" data-col="filed">6</td>' in c1_row
    assert '<td class="text-end" data-col="resolution_rate">33.3%</td>' in c1_row


def test_it_drills_down_to_a_community_then_a_grid_and_each_adds_up(client, w):
    community = page(client, w.street, area=w.c1.pk)
    c1 = community.context
    assert c1["area"] == w.c1 and c1["summary"]["filed"] == 6
    assert [a.name for a in c1["crumbs"]] == ["解放碑街道"]
    grids = {r["area"].name: (r["filed"], r["open"]) for r in c1["areas"]}
    assert grids == {
        "民生路社区第1网格": (4, 1),
        "民生路社区第2网格": (2, 2),
        "民生路社区第3网格": (0, 1),
        "解放碑小学专属网格": (0, 0),
    }
    for key in ("filed", "open", "red", "orange", "green", "unassigned", "resolved"):
        assert sum(r[key] for r in c1["areas"]) == c1["summary"][key], key

    g02 = w.areas["500103001001G02"]
    grid = page(client, w.street, area=g02.pk).context
    rows = {(r["area"].name, r["is_self"]): r["filed"] for r in grid["areas"]}
    assert rows == {
        ("民生路社区第2网格1号楼微网格", False): 1,
        ("民生路社区第2网格2号楼微网格", False): 0,
        ("民生路社区第2网格", True): 1,  # case d was filed on the grid itself
    }
    assert sum(rows.values()) == grid["summary"]["filed"] == 2
    assert [a.name for a in grid["crumbs"]] == ["解放碑街道", "民生路社区"]


def test_it_drills_down_from_the_district_and_the_streets_add_up(client, w):
    response = page(client, w.district)
    rows = {r["area"].name: r for r in response.context["areas"]}

    assert [r["filed"] for r in rows.values()] == [9, 2, 0]
    for key in ("filed", "withdrawn", "resolved", "concluded", "open", "red", "orange", "green",
                "unassigned"):  # fmt: skip
        assert sum(r[key] for r in rows.values()) == DISTRICT_APRIL[key], key
    assert rows["解放碑街道"]["url"] == f"?area={w.s1.pk}"


def test_it_keeps_the_chosen_dates_in_drill_down_links(client, w):
    response = page(client, w.street, **{"from": "2026-03-01", "to": "2026-03-31"})
    c1_row = next(r for r in response.context["areas"] if r["area"].pk == w.c1.pk)
    assert c1_row["url"] == f"?area={w.c1.pk}&from=2026-03-01&to=2026-03-31"


def reference_figures(area, period, now) -> dict:
    """The definitions in plain Python over every case, with sla.evaluate for colours."""
    from disputes.selectors import LEVEL_COLUMN

    column = LEVEL_COLUMN[area.level]
    start, end = period.bounds
    result = dict.fromkeys(["filed", "withdrawn", "resolved", "concluded", "open", "red",
                            "orange", "green", "unassigned"], 0)  # fmt: skip
    for case in Case.objects.filter(**{column: area.pk}):
        if start <= case.filed_at < end:
            result["filed"] += 1
            result["withdrawn"] += case.status == CaseStatus.WITHDRAWN
            result["resolved"] += case.status == CaseStatus.RESOLVED or (
                case.status == CaseStatus.CLOSED and case.close_kind == CloseKind.SUBSTANTIVE
            )
            result["concluded"] += case.status in ("resolved", "closed", "referred")
        if case.status in OPEN_STATUSES:
            result["open"] += 1
            result[evaluate(case, now)[0]] += 1
            result["unassigned"] += case.status in ("filed", "accepted")
    return result


def test_it_agrees_with_the_python_definitions_for_every_area_of_the_district(w):
    period = periods.Period(date(2026, 3, 1), date(2026, 4, 20))
    now = NOW
    for area in Area.objects.filter(path__startswith=w.district_area.path):
        expected = reference_figures(area, period, now)
        summary = stats.summary(area=area, period=period, now=now)
        assert {k: summary[k] for k in expected} == expected, area.name
        children = stats.by_area(area=area, period=period, now=now)
        if area.level != AreaLevel.MICRO_GRID:
            for key in expected:
                assert sum(r[key] for r in children) == expected[key], (area.name, key)


def test_it_keeps_the_list_of_count_names_in_step_with_the_counts(w):
    args = compiled.query_args(w.s1, periods.period_for(None, None), NOW)
    assert tuple(stats._aggregates(args)) == stats._AGGREGATE_KEYS


# --- charts and hot spots --------------------------------------------------------------------


def test_it_charts_the_period_by_type_area_day_and_channel(client, w):
    response = page(client, w.street)

    category = chart(response, "chart-category")
    filed, resolved = (s["data"] for s in category["series"])
    got = dict(zip(category["labels"], zip(filed, resolved, strict=True), strict=True))
    assert got == {name: (filed, resolved) for name, filed, resolved in S1_BY_CATEGORY}
    assert category["labels"][0] == "邻里纠纷"  # the largest first

    area = chart(response, "chart-area")
    assert area["labels"] == ["民生路社区", "五一路社区", "新华路社区"]
    assert area["series"][0]["data"] == [6, 3, 0]
    assert area["links"] == [f"?area={w.c1.pk}", f"?area={w.c2.pk}", f"?area={w.c3.pk}"]

    trend = chart(response, "chart-trend")
    assert len(trend["labels"]) == 20 and trend["labels"][0] == "04-01"
    for day in range(1, 21):
        filed, resolved = S1_TREND.get(day, (0, 0))
        assert trend["series"][0]["data"][day - 1] == filed, day
        assert trend["series"][1]["data"][day - 1] == resolved, day

    channel = chart(response, "chart-channel")
    labels = dict(zip(channel["labels"], channel["series"][0]["data"], strict=True))
    with translation.override("zh-hans"):
        from disputes.models import Channel

        expected = {str(Channel(key).label): n for key, n in S1_BY_CHANNEL.items()}
    assert labels == expected


def test_it_charts_long_periods_by_month(w):
    trend = stats.trend(area=w.s1, period=periods.Period(date(2025, 11, 1), date(2026, 4, 20)))
    assert trend["granularity"] == "month"
    assert [(p["date"], p["filed"]) for p in trend["points"]] == [
        (date(2025, 11, 1), 0), (date(2025, 12, 1), 0), (date(2026, 1, 1), 0),
        (date(2026, 2, 1), 0), (date(2026, 3, 1), 3), (date(2026, 4, 1), 9),
    ]  # fmt: skip


def test_it_flags_hot_addresses_micro_grids_and_group_disputes(client, w):
    response = page(client, w.street)
    hot = response.context["hotspots"]
    html = response.content.decode()

    assert [(h["address"], h["cases"], h["open"]) for h in hot["addresses"]] == [
        ("民生路1号", 3, 1)
    ]
    assert [(h["name"], h["cases"]) for h in hot["micro_grids"]] == [
        ("民生路社区第1网格1号楼微网格", 3)
    ]
    assert [(c["number"], c["people_involved"]) for c in hot["group_disputes"]] == [
        (w.cases["e"].number, 30), (w.cases["d"].number, 12)
    ]  # fmt: skip
    assert response.context["summary"]["group_disputes"] == 2
    groups = html[html.index('data-testid="group-disputes"') :]
    assert groups.count("badge text-bg-danger") >= 2  # both are still open: early warning
    micro = w.areas["500103001001G01M01"]
    assert f'href="?area={micro.pk}"' in html


def test_it_does_not_flag_an_address_with_only_two_disputes(w):
    hot = stats.hotspots(area=w.c2, period=periods.Period(date(2026, 4, 1), date(2026, 4, 20)))
    assert hot == {"addresses": [], "micro_grids": [], "group_disputes": []}


# --- the triage queue ----------------------------------------------------------------------


def test_it_lists_waiting_cases_by_assignment_deadline_with_the_time_left(client, w):
    response = page(client, w.street)
    queue = response.context["queue"]

    assert [row["case"].number for row in queue] == [w.cases["e"].number, w.cases["d"].number]
    e, d = queue
    assert e["case"].sla_colour == "orange" and e["left"]["overdue"]
    assert d["case"].sla_colour == "green" and not d["left"]["overdue"]
    assert d["actions"] == ["accept", "assign", "send_back", "escalate"]
    assert e["actions"] == ["assign", "send_back", "escalate"]  # already accepted
    # What the grey line shows: number, type, risk, where, status, who handles it.
    assert d["before_risk"] == f"{w.cases['d'].number} · 劳动争议 / 拖欠工资"
    assert (d["risk"], d["risk_class"]) == ("一般", "")
    assert d["after_risk"] == "民生路社区第2网格 · 已提交 · 承办单位 民生路社区"
    assert e["after_risk"] == "民生路社区第2网格1号楼微网格 · 已受理 · 承办单位 民生路社区"
    case = e["case"]
    assert (case.handling_area.name, case.handling_area.level) == ("民生路社区", "community")
    assert case.handling_area.path == w.c1.path and case.category.name == "加装电梯费用分摊"
    fresh = Case.objects.get(pk=case.pk)
    assert [getattr(case, f.attname) for f in Case._meta.concrete_fields] == [
        getattr(fresh, f.attname) for f in Case._meta.concrete_fields
    ]
    html = response.content.decode()
    assert html.index(f'data-case="{w.cases["e"].number}"') < html.index(
        f'data-case="{w.cases["d"].number}"'
    )


@pytest.mark.parametrize(
    ("delta", "english", "overdue"),
    [
        (timedelta(hours=3, minutes=20), "3 hours left", False),
        (timedelta(minutes=-125), "2 hours overdue", True),
        (timedelta(minutes=40), "40 minutes left", False),
        (timedelta(minutes=-1), "1 minute overdue", True),
        (timedelta(days=-11, hours=-1), "11 days overdue", True),
        (timedelta(hours=47), "47 hours left", False),
    ],
)
def test_it_words_the_time_left_like_a_person_would(delta, english, overdue):
    with translation.override("en"):
        assert dashboard_views.time_left(NOW + delta, NOW) == {"text": english, "overdue": overdue}


def post_action(client, w, key, action, data=None, user=None):
    client.force_login(user or w.street)
    return client.post(
        reverse("dashboard:queue_action", args=[w.cases[key].pk, action]),
        data or {},
        HTTP_HX_REQUEST="true",
    )


def test_it_assigns_from_the_queue_in_place_and_tells_the_counts_to_refresh(client, w):
    response = post_action(client, w, "d", "assign", {"assign-mediator": w.mediator.pk})

    assert response.status_code == 200
    assert response["HX-Trigger"] == "dashboard-changed"
    body = response.content.decode()
    assert body.lstrip().startswith(
        f'<li class="list-group-item px-2" id="queue-{w.cases["d"].pk}"'
    )
    assert 'data-state="done"' in body and w.mediator.display_name in body
    case = w.case("d")
    assert case.status == CaseStatus.ASSIGNED and case.mediator == w.mediator
    assert case.events.filter(kind=CaseEvent.Kind.ASSIGNED, actor=w.street).exists()

    counts = client.get(reverse("dashboard:counts"), HTTP_HX_REQUEST="true").content.decode()
    assert counts.lstrip().startswith('<section id="dashboard-counts"')
    assert figure(counts, "unassigned") == "1"
    # d left the queue and is no longer due soon: its assignment is done, and its first
    # handling (due in 24 hours) is not in its warning window yet (the last 6 hours).
    assert figure(counts, "due_soon") == "1"


def test_it_accepts_in_place_and_keeps_the_row_in_the_queue(client, w):
    response = post_action(client, w, "d", "accept")

    body = response.content.decode()
    assert 'data-state="queued"' in body and "alert-success" in body
    assert w.case("d").status == CaseStatus.ACCEPTED
    assert response["HX-Trigger"] == "dashboard-changed"


def test_it_needs_a_reason_to_send_back_and_keeps_the_panel_open(client, w):
    response = post_action(client, w, "d", "send_back", {"send_back-reason": ""})

    body = response.content.decode()
    assert response.status_code == 400 and "HX-Trigger" not in response
    assert 'data-action="send_back"' in body and "invalid-feedback" in body
    assert "该字段是必填项。" in body
    assert '<details class="mt-1" open>' in body
    assert w.case("d").status == CaseStatus.FILED

    response = post_action(client, w, "d", "send_back", {"send_back-reason": "缺少当事人电话"})
    assert 'data-state="done"' in response.content.decode()
    assert w.case("d").status == CaseStatus.SENT_BACK


def test_it_escalates_to_the_street_centre_and_keeps_the_row(client, w):
    response = post_action(client, w, "e", "escalate", {"escalate-reason": "涉及30户，需街道协调"})

    case = w.case("e")
    assert case.handling_area == w.s1 and case.status == CaseStatus.FILED
    body = response.content.decode()
    assert 'data-state="queued"' in body and "解放碑街道" in body
    assert response["HX-Trigger"] == "dashboard-changed"


def test_it_reports_a_lost_race_in_the_row_and_changes_nothing(client, w):
    from disputes import services

    services.case_assign(case=w.case("d"), mediator=w.mediator, actor=w.district)
    events = CaseEvent.objects.count()
    response = post_action(client, w, "d", "accept")

    assert response.status_code == 409
    assert 'data-testid="queue-error"' in response.content.decode()
    assert CaseEvent.objects.count() == events


def test_it_refuses_an_action_the_viewer_may_not_take(client, w):
    """The community secretary sees case l? No: l is in another street (404). She sees e,
    but once it is escalated to the street she may no longer assign it (403 → message)."""
    from disputes import services

    services.case_escalate(case=w.case("e"), actor=w.district, reason="街道协调")
    response = post_action(
        client, w, "e", "assign", {"assign-mediator": w.mediator.pk}, user=w.secretary
    )
    assert response.status_code == 403
    body = response.content.decode()
    assert 'data-testid="queue-error"' in body and "您无权对本案件执行此操作。" in body
    assert w.case("e").status == CaseStatus.FILED
    assert post_action(client, w, "l", "accept").status_code == 404


def test_it_refuses_the_queue_to_users_without_a_dashboard(client, w):
    events = CaseEvent.objects.count()
    for user in (w.gridworker, w.judge):
        client.force_login(user)
        panel = client.get(reverse("dashboard:queue_panel", args=[w.cases["d"].pk]))
        assert panel.status_code == 403
        response = post_action(client, w, "d", "accept", user=user)
        assert response.status_code == 403
    assert CaseEvent.objects.count() == events and w.case("d").status == CaseStatus.FILED


def test_it_answers_404_for_a_case_out_of_scope_or_an_unknown_action(client, w):
    client.force_login(w.street)
    assert client.get(reverse("dashboard:queue_panel", args=[w.cases["l"].pk])).status_code == 404
    assert client.get(reverse("dashboard:queue_panel", args=[999_999])).status_code == 404
    assert post_action(client, w, "d", "delete").status_code == 404
    assert post_action(
        client, w, "l", "assign", {"assign-mediator": w.mediator.pk}
    ).status_code == (404)
    assert w.case("l").status == CaseStatus.FILED


def test_it_rejects_an_unknown_mediator_with_400_in_the_row(client, w):
    response = post_action(client, w, "d", "assign", {"assign-mediator": 999_999})

    assert response.status_code == 400 and "HX-Trigger" not in response
    body = response.content.decode()
    assert "选择一个有效的选项" in body and '<details class="mt-1" open>' in body
    assert w.case("d").status == CaseStatus.FILED


def test_it_offers_the_mediators_least_loaded_first_in_one_query(
    client, w, django_assert_num_queries
):
    case = Case.objects.select_related("handling_area").get(pk=w.cases["d"].pk)
    with django_assert_num_queries(1):
        mediators = list(stats.mediators_by_load(case=case))
    loads = {m.username: m.open_load for m in mediators}
    # mediator: c and g are open; street: k.
    assert loads["mediator"] == 2 and loads["street"] == 1 and loads["secretary"] == 0
    assert [m.open_load for m in mediators] == sorted(m.open_load for m in mediators)
    client.force_login(w.street)
    panel = client.get(reverse("dashboard:queue_panel", args=[case.pk]), HTTP_HX_REQUEST="true")
    assert panel.status_code == 200
    options = re.findall(r'<option value="(\d+)">', panel.content.decode())
    assert [int(pk) for pk in options] == [m.pk for m in mediators]


def test_it_goes_back_to_the_dashboard_without_javascript(client, w):
    client.force_login(w.street)
    response = client.post(
        reverse("dashboard:queue_action", args=[w.cases["d"].pk, "assign"]),
        {"assign-mediator": w.mediator.pk},
    )
    assert response.status_code == 302 and response["Location"] == DASHBOARD
    assert w.case("d").status == CaseStatus.ASSIGNED


# --- big screen ------------------------------------------------------------------------------


def test_it_shows_the_big_screen_dark_and_refreshing_every_minute(client, w):
    client.force_login(w.street)
    response = client.get(reverse("dashboard:screen"))
    html = response.content.decode()

    assert response.status_code == 200
    assert 'data-bs-theme="dark"' in html and 'class="screen"' in html
    assert 'hx-trigger="every 60s"' in html
    assert figure(html, "filed") == "9" and figure(html, "red") == "1"
    assert 'id="screen-trend"' in html and "echarts.min.js" in html

    partial = client.get(reverse("dashboard:screen"), HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<main id="screen-figures"')
    assert "<html" not in partial


# --- CSV export ----------------------------------------------------------------------------


def export(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("dashboard:export"), params)
    assert response.status_code == 200, response.content[:500]
    assert response.streaming
    raw = b"".join(response.streaming_content)
    return response, raw


def test_it_exports_excel_friendly_csv_with_chinese_intact(client, w):
    response, raw = export(client, w.street)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "attachment" in response["Content-Disposition"]
    assert ".csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    with translation.override("zh-hans"):
        assert header[:2] == [translation.gettext("Case number"), translation.gettext("Cause")]
    numbers = {r[0] for r in body}
    s1_cases = {c.number for c in Case.objects.filter(street=w.s1)}
    assert numbers == s1_cases  # the street's cases, none of another street
    d = next(r for r in body if r[0] == w.cases["d"].number)
    assert d[1] == "纠纷d：拖欠工资" and d[4] == "劳动争议" and d[5] == "拖欠工资"
    assert d[8] == "12" and d[10] == "民生路88号工地"
    assert d[19] == "2026-04-19 12:00"  # local time


def test_it_exports_with_the_case_list_filters(client, w):
    _response, raw = export(
        client, w.street, area=w.c2.pk, filed_from="2026-04-01", filed_to="2026-04-30"
    )
    numbers = {r[0] for r in list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))[1:]}
    assert numbers == {w.cases[k].number for k in ("h", "i", "j")}

    _response, raw = export(client, w.street, colour="red")
    numbers = {r[0] for r in list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))[1:]}
    assert numbers == {w.cases["g"].number}

    # A grid (deeper than the list's picker offers) as the dashboard links to it.
    _response, raw = export(client, w.street, area=w.areas["500103001001G02"].pk)
    assert len(raw.decode("utf-8-sig").splitlines()) == 3  # header + d + e


def test_it_defuses_spreadsheet_formulas_in_exported_text(client, w):
    file(w, "x", local(4, 19, 9), "500103001001G01M01", "0203", address='=HYPERLINK("x")')
    _response, raw = export(client, w.street)
    assert "'=HYPERLINK" in raw.decode("utf-8-sig")


def test_it_links_the_export_from_the_dashboard_with_the_area_and_period(client, w):
    response = page(client, w.street, area=w.c1.pk)
    assert response.context["export_url"] == (
        f"/dashboard/export.csv?area={w.c1.pk}&filed_from=2026-04-01&filed_to=2026-04-20"
    )
    _response, raw = export(client, w.street, area=w.c1.pk, filed_from="2026-04-01",
                            filed_to="2026-04-20")  # fmt: skip
    assert len(raw.decode("utf-8-sig").splitlines()) == 1 + 6


def test_it_links_the_export_from_the_case_list_with_its_filters(client, w):
    client.force_login(w.street)
    html = client.get("/cases/", {"colour": "red", "page": "1"}).content.decode()
    assert 'href="/dashboard/export.csv?colour=red" data-testid="export-link"' in html
    assert 'data-testid="export-link"' not in client.get("/cases/mine/").content.decode()


def test_it_refuses_an_export_it_would_have_to_cut_short(client, w, monkeypatch):
    monkeypatch.setattr("dashboards.export.EXPORT_MAX_ROWS", 3)
    client.force_login(w.street)
    response = client.get(reverse("dashboard:export"), {"filed_from": "2026-03-01"})
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "符合条件的案件超过 3 件，请缩小筛选范围后再导出。" in body
    assert 'href="/cases/?filed_from=2026-03-01"' in body


def test_it_refuses_an_export_with_bad_filters_instead_of_exporting_everything(client, w):
    client.force_login(w.street)
    response = client.get(reverse("dashboard:export"), {"area": w.s2.pk})
    assert response.status_code == 400
    body = response.content.decode()
    assert "导出筛选条件无效，请检查。" in body and "选择一个有效的选项" in body
    response = client.get(reverse("dashboard:export"), {"filed_from": "四月"})
    assert response.status_code == 400 and "输入一个有效的日期。" in response.content.decode()


def test_it_exports_only_what_an_outsider_to_the_street_may_see(client, w):
    """A grid worker has no dashboard, but the case list's export is theirs too: their
    grid's cases, none of the street's others, none of another street's."""
    _response, raw = export(client, w.gridworker)
    numbers = {r[0] for r in list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))[1:]}
    visible = set(Case.objects.visible_to(w.gridworker).values_list("number", flat=True))
    assert numbers == visible
    assert w.cases["l"].number not in numbers and w.cases["h"].number not in numbers


def test_it_sends_anonymous_visitors_to_log_in_before_exporting(client, w):
    response = client.get(reverse("dashboard:export"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_streams_the_export_from_a_chunked_cursor(client, w, monkeypatch):
    from django.db.models.query import QuerySet

    seen = {}
    original = QuerySet.iterator

    def iterator(self, chunk_size=None):
        seen["chunk_size"] = chunk_size
        return original(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", iterator)
    export(client, w.street)
    assert seen["chunk_size"] == EXPORT_CHUNK


# --- a fixed number of queries whatever the data size -------------------------------------


def more_cases(w, count: int):
    """More of everything: areas, types, channels, states, group disputes, hot spots, and
    residents' ratings of closed cases."""
    from disputes import services
    from tests.dashboards.dashboard_world import rate

    codes = ["0201", "0203", "1001", "1401", "0101", "1301", "0402", "1101"]
    grids = [a.code for a in Area.objects.filter(path__startswith=w.s1.path, level="micro_grid")]
    channels = ["grid_worker", "hotline", "online", "resident_qr"]
    for n in range(count):
        case = file(w, f"more{n}", local(4, 1 + n % 19, 10), grids[n % len(grids)],
                    codes[n % len(codes)], address=f"更多路{n % 3}号",
                    channel=channels[n % len(channels)], people_involved=2 + n)  # fmt: skip
        if n % 2:
            case = services.case_assign(case=case, mediator=w.street, actor=w.district)
        if n % 4 == 3:
            case = services.case_progress(case=case, actor=w.district, note="调解")
            case = services.case_resolve(case=case, actor=w.street, outcome="agreement")
            services.case_close(case=case, actor=w.district)
            rate(w, f"more{n}", NOW, "satisfied" if n % 8 == 3 else "unsatisfied")


def count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url",
    [
        DASHBOARD,
        reverse("dashboard:screen"),
        reverse("dashboard:counts"),
        reverse("dashboard:export"),
    ],
)
def test_it_runs_a_fixed_number_of_queries_whatever_the_data_size(client, w, url):
    client.force_login(w.street)
    before = count_queries(client, url)
    drilled = count_queries(client, url, {"area": w.c1.pk})
    more_cases(w, 24)
    assert count_queries(client, url) == before
    assert count_queries(client, url, {"area": w.c1.pk}) == drilled
    # Session, user and scope (3), then the figures: see the budget in the next test.
    assert before <= 20


def test_it_opens_a_queue_row_and_acts_on_it_in_a_fixed_number_of_queries(client, w):
    """The row's panel (mediators with their loads) and an action's answer (the row again)
    cost the same with 24 more cases, half of them on the mediators' desks."""
    client.force_login(w.street)
    panel = reverse("dashboard:queue_panel", args=[w.cases["d"].pk])
    before = count_queries(client, panel)
    with CaptureQueriesContext(connection) as refused:
        post_action(client, w, "d", "send_back", {"send_back-reason": ""})
    more_cases(w, 24)
    assert count_queries(client, panel) == before
    with CaptureQueriesContext(connection) as again:
        post_action(client, w, "d", "send_back", {"send_back-reason": ""})
    assert len(again) == len(refused)


def test_it_builds_the_whole_page_in_at_most_19_queries(client, w, django_assert_max_num_queries):
    # Session, user, scope and the ?area= lookup (4); the figures and the queue (11); the
    # area picker (1); the satisfaction rate from the residents' ratings and callbacks (1);
    # the banner of instructions to acknowledge (1); the linkage referrals by kind and
    # direction (1, referrals.selectors.linkage_figures: one GROUP BY).
    client.force_login(w.district)
    with django_assert_max_num_queries(19):
        client.get(DASHBOARD, {"area": w.s1.pk})

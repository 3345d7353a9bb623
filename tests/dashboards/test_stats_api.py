"""The dashboard's figures over the API (/api/v1/stats/…): the same numbers as the page for
the known cases of dashboard_world.py, the same scope, the error shape, and a fixed number of
queries whatever the data size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from rest_framework.test import APIClient

from disputes.models import Channel
from tests.dashboards.dashboard_world import (
    DISTRICT_APRIL,
    NOW,
    S1_APRIL,
    S1_BY_CATEGORY,
    S1_BY_CHANNEL,
    S1_BY_COMMUNITY,
    S1_MARCH,
    S1_TREND,
    SATISFACTION,
    seeded_world,
)
from tests.dashboards.test_dashboard import more_cases
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ENDPOINTS = ("summary", "by-area", "by-category", "by-channel", "trend", "hotspots")


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    yield from seeded_world(django_db_blocker)


@pytest.fixture
def w(seeded, db, time_machine):
    time_machine.move_to(NOW, tick=False)
    return seeded


def api(user, endpoint, **params):
    client = APIClient()
    client.force_authenticate(user)
    return client.get(f"/api/v1/stats/{endpoint}/", params)


def ok(user, endpoint, **params) -> dict:
    response = api(user, endpoint, **params)
    assert response.status_code == 200, response.content
    return response.json()


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail", "errors"}
    return body


def flat_summary(body: dict) -> dict:
    """The summary's nested answer in the page's flat terms, to compare with the world."""
    flat = {key: body[key] for key in ("filed", "withdrawn", "counted", "resolved", "concluded",
                                       "group_disputes")}  # fmt: skip
    for step, figures in body["on_time"].items():
        flat[f"{step}_in_time"], flat[f"{step}_due"] = figures["in_time"], figures["due"]
    opened = body["open"]
    flat |= {"open": opened["total"], "due_soon": opened["due_within_24h"]}
    flat |= {k: opened[k] for k in ("red", "orange", "green", "not_assigned", "not_handled",
                                    "past_close", "unassigned")}  # fmt: skip
    return flat


def test_it_sums_up_the_street_for_this_month(w):
    body = ok(w.street, "summary")

    assert body["area"] == {"id": w.s1.pk, "name": "解放碑街道", "level": "street"}
    assert body["period"] == {"from": "2026-04-01", "to": "2026-04-20"}
    flat = flat_summary(body)
    assert {k: flat[k] for k in S1_APRIL if k in flat} == {
        k: v for k, v in S1_APRIL.items() if k in flat
    }
    assert body["rates"] == {
        "resolution": 0.375,
        "closing": 0.625,
        "assign_on_time": round(5 / 7, 4),
        "first_handling_on_time": round(5 / 6, 4),
        "closing_on_time": 1.0,
        "satisfaction": 0.5,  # the residents' answers: a satisfied, b unsatisfied
    }


def test_it_sums_up_another_period_and_the_district(w):
    march = flat_summary(ok(w.street, "summary", **{"from": "2026-03-01", "to": "2026-03-31"}))
    assert {k: march[k] for k in S1_MARCH} == S1_MARCH

    district = flat_summary(ok(w.district, "summary"))
    assert {k: district[k] for k in DISTRICT_APRIL} == DISTRICT_APRIL


@pytest.mark.parametrize(
    ("who", "where", "period"),
    [("street", None, "april"), ("street", None, "march"), ("street", None, "march-april"),
     ("street", "c1", "april"), ("street", "c2", "april"), ("district", None, "april"),
     ("district", "s2", "april")],
)  # fmt: skip
def test_it_gives_the_residents_satisfaction_rate_for_the_area_and_period(w, who, where, period):
    dates = {"april": {}, "march": {"from": "2026-03-01", "to": "2026-03-31"},
             "march-april": {"from": "2026-03-01"}}[period]  # fmt: skip
    area = {"area": getattr(w, where).pk} if where else {}
    body = ok(getattr(w, who), "summary", **area, **dates)
    key = (where or ("s1" if who == "street" else "district"), period)
    assert body["rates"]["satisfaction"] == SATISFACTION[key]


def test_it_breaks_down_by_area_and_the_children_add_up(w):
    body = ok(w.street, "by-area")
    rows = {r["area"]["name"]: r for r in body["children"]}

    for name, expected in S1_BY_COMMUNITY.items():
        assert {k: rows[name][k] for k in expected} == expected, name
    summary = ok(w.street, "summary")
    assert sum(r["filed"] for r in rows.values()) == summary["filed"]
    assert sum(r["resolved"] for r in rows.values()) == summary["resolved"]
    assert sum(r["red"] for r in rows.values()) == summary["open"]["red"]
    assert rows["民生路社区"]["resolution_rate"] == round(2 / 6, 4)
    assert rows["新华路社区"]["resolution_rate"] is None  # nothing to divide by


def test_it_drills_down_with_area_to_a_community_and_a_grid(w):
    community = ok(w.street, "by-area", area=w.c1.pk)
    assert community["area"]["name"] == "民生路社区"
    assert sum(r["filed"] for r in community["children"]) == 6

    g02 = w.areas["500103001001G02"]
    grid = ok(w.street, "by-area", area=g02.pk)
    own = [r for r in grid["children"] if r["is_self"]]
    assert [(r["area"]["id"], r["filed"]) for r in own] == [(g02.pk, 1)]
    assert (
        sum(r["filed"] for r in grid["children"]) == ok(w.street, "summary", area=g02.pk)["filed"]
    )


COUNT_KEYS = ("filed", "withdrawn", "counted", "resolved", "concluded", "open", "green",
              "orange", "red", "unassigned")  # fmt: skip


def summary_counts(body: dict) -> dict:
    opened = body["open"]
    return {**{k: body[k] for k in COUNT_KEYS[:5]}, "open": opened["total"],
            **{k: opened[k] for k in COUNT_KEYS[6:]}}  # fmt: skip


def test_it_adds_up_every_drill_down_level_from_the_district_to_the_micro_grids(w):
    """district → streets → communities → grids → micro-grids: at every level the children
    (and the cases filed on the area itself) add up to the area's own summary."""
    pending, checked = [w.district_area.pk], 0
    while pending:
        area = pending.pop()
        rows = ok(w.district, "by-area", area=area, **{"from": "2026-03-01"})["children"]
        if not rows:
            continue
        total = summary_counts(ok(w.district, "summary", area=area, **{"from": "2026-03-01"}))
        assert {k: sum(r[k] for r in rows) for k in COUNT_KEYS} == total, area
        checked += 1
        pending += [r["area"]["id"] for r in rows if not r["is_self"] and r["filed"] + r["open"]]
    assert checked >= 8  # the district, 2 streets, 3 communities, grids


def test_it_answers_zeros_and_nulls_for_an_area_without_disputes(w):
    body = ok(w.district, "summary", area=w.s3.pk)
    assert all(v == 0 for v in summary_counts(body).values())
    assert set(body["rates"].values()) == {None}
    assert all(
        r["filed"] == r["open"] == 0 for r in ok(w.district, "by-area", area=w.s3.pk)["children"]
    )
    assert ok(w.district, "by-category", area=w.s3.pk)["categories"] == []
    hot = ok(w.district, "hotspots", area=w.s3.pk)
    assert hot["addresses"] == hot["micro_grids"] == hot["group_disputes"] == []
    assert {p["filed"] for p in ok(w.district, "trend", area=w.s3.pk)["points"]} == {0}


def test_it_breaks_down_by_first_level_type(w):
    body = ok(w.street, "by-category")
    got = {r["name"]: (r["filed"], r["resolved"]) for r in body["categories"]}
    assert got == {name: (filed, resolved) for name, filed, resolved in S1_BY_CATEGORY}
    assert body["categories"][0]["id"] == w.categories["02"].pk


def test_it_breaks_down_the_district_by_type_including_the_other_street(w):
    body = ok(w.district, "by-category")
    got = {r["name"]: (r["filed"], r["resolved"]) for r in body["categories"]}
    expected = {name: (filed, resolved) for name, filed, resolved in S1_BY_CATEGORY}
    expected["邻里纠纷"] = (6, 3)  # l and m of 七星岗街道, m resolved
    assert got == expected


def test_it_breaks_down_by_channel_for_each_area_and_period(w):
    with translation.override("zh-hans"):
        labels = {key: str(label) for key, label in Channel.choices}
    body = ok(w.street, "by-channel")
    assert {r["channel"]: r["filed"] for r in body["channels"]} == S1_BY_CHANNEL
    assert all(r["label"] == labels[r["channel"]] for r in body["channels"])
    assert body["channels"][0] == {"channel": "grid_worker", "label": "网格员现场上报", "filed": 3}

    march = ok(w.street, "by-channel", **{"from": "2026-03-01", "to": "2026-03-31"})
    assert [(r["channel"], r["filed"]) for r in march["channels"]] == [("hotline", 3)]
    district = ok(w.district, "by-channel")
    assert {r["channel"]: r["filed"] for r in district["channels"]} == (
        S1_BY_CHANNEL | {"hotline": S1_BY_CHANNEL["hotline"] + 2}  # l and m
    )
    assert ok(w.district, "by-channel", area=w.s3.pk)["channels"] == []


def test_it_gives_the_daily_trend_of_another_period(w):
    body = ok(w.street, "trend", **{"from": "2026-03-01", "to": "2026-03-31"})
    days = {int(p["date"][-2:]): (p["filed"], p["resolved"]) for p in body["points"] if p["filed"]}
    assert len(body["points"]) == 31
    assert days == {5: (1, 1), 10: (1, 0), 21: (1, 0)}  # n resolved; g; k at 22:00 local


def test_it_gives_the_daily_trend_with_every_day(w):
    body = ok(w.street, "trend")

    assert body["granularity"] == "day"
    assert len(body["points"]) == 20
    for point in body["points"]:
        day = int(point["date"][-2:])
        assert (point["filed"], point["resolved"]) == S1_TREND.get(day, (0, 0)), point


def test_it_lists_hot_spots_and_group_disputes(w):
    body = ok(w.street, "hotspots")

    assert (body["min_cases"], body["min_people"]) == (3, 10)
    assert body["addresses"] == [{"address": "民生路1号", "cases": 3, "open": 1}]
    micro = w.areas["500103001001G01M01"]
    assert body["micro_grids"] == [{"area_id": micro.pk, "name": micro.name, "cases": 3, "open": 1}]
    groups = [(g["number"], g["people_involved"], g["is_open"]) for g in body["group_disputes"]]
    assert groups == [(w.cases["e"].number, 30, True), (w.cases["d"].number, 12, True)]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_it_refuses_an_area_outside_the_users_scope(w, endpoint):
    body = assert_error(api(w.street, endpoint, area=w.s2.pk), 400)
    assert "area" in body["errors"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_it_refuses_users_without_a_dashboard(w, endpoint):
    assert_error(api(w.gridworker, endpoint), 403)
    assert APIClient().get(f"/api/v1/stats/{endpoint}/").status_code in (401, 403)


def test_it_rejects_bad_dates_with_field_errors(w):
    body = assert_error(api(w.street, "summary", **{"from": "yesterday"}), 400)
    assert "from" in body["errors"]
    assert "日期格式错误" in body["errors"]["from"][0]  # in Chinese, the default language
    body = assert_error(api(w.street, "trend", **{"from": "2026-04-10", "to": "2026-04-01"}), 400)
    assert body["errors"] == {"from": ["起始日期晚于截止日期。"]}
    body = assert_error(api(w.street, "by-channel", **{"from": "2016-01-01"}), 400)
    assert body["errors"] == {"from": ["统计期间不能超过十年。"]}
    body = assert_error(api(w.street, "by-area", area="街道"), 400)
    assert "area" in body["errors"]


def test_it_explains_its_refusals_in_chinese(w):
    body = assert_error(api(w.gridworker, "summary"), 403)
    assert body["detail"] == "工作台供社区、街道和区级工作人员使用。"
    body = assert_error(api(w.street, "summary", area=w.s2.pk), 400)
    assert "对象不存在" in body["errors"]["area"][0]


def count_queries(user, endpoint, **params) -> int:
    from grids.models import User

    client = APIClient()
    # A fresh user object: the scope is cached on it, as it would be for one request.
    client.force_authenticate(User.objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/api/v1/stats/{endpoint}/", params).status_code == 200
    return len(queries)


# Besides the user's scope (1) and the ?area= lookup when given (1): one query per figure,
# plus one for the summary's satisfaction rate (residents' ratings and callback answers), two
# for by-area (the aggregate and the child areas), four for the hot spots (addresses,
# micro-grids and their names, group disputes).
BUDGET = {"summary": 3, "by-area": 3, "by-category": 2, "by-channel": 2, "trend": 2,
          "hotspots": 5}  # fmt: skip


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_it_answers_with_a_fixed_number_of_queries_whatever_the_data_size(w, endpoint):
    before = count_queries(w.street, endpoint)
    drilled = count_queries(w.street, endpoint, area=w.c1.pk)
    assert before == BUDGET[endpoint]
    assert drilled == before + 1
    more_cases(w, 24)
    assert count_queries(w.street, endpoint) == before
    assert count_queries(w.street, endpoint, area=w.c1.pk) == drilled


def test_it_documents_the_stats_endpoints_in_the_schema(client):
    client.force_login(UserFactory())
    schema = client.get("/api/schema/").content.decode()
    for endpoint in ENDPOINTS:
        assert f"/api/v1/stats/{endpoint}/" in schema
    assert "stats_summary" in schema
